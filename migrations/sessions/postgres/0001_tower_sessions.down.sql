-- 0001_tower_sessions, reverted.
-- Generated from examples/app/entities.hpp by `tenantry-app schema --write`; do not edit.
-- tests/app/drift_test.cpp fails when this file and the entities disagree.
DROP TABLE "tower_sessions";
