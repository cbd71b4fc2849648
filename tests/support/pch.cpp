// Empty: the object library tenantry_test_pch (tests/CMakeLists.txt) exists to own the precompiled
// header that tenantry-parity, -pg, -reliability, -bad-input and -service-tests reuse.
