// tenantry/reflect.hpp - compile-time reflection of plain entity structs.
//
// Field access comes from Boost.PFR. Field *names* come from boost::pfr::get_name when Boost is
// 1.84 or newer; Boost 1.81 (Debian 12) has no name API, so we read them from the compiler's
// pretty-printed signature of a function templated on a pointer to the field of a never-defined
// object. The object is only ever named inside constant expressions, so it needs no definition
// and no default constructor.
//
// The same fake object answers "which field does this member pointer name?" at compile time,
// which is how constraint declarations such as unique(&T::a, &T::b) are checked and turned into
// column indices.
#pragma once

#include "tenantry/version.hpp"

#include <boost/version.hpp>

#if BOOST_VERSION < TENANTRY_MIN_BOOST_VERSION
#error "tenantry needs Boost 1.81 or later (Boost.PFR)"
#endif

#include <boost/pfr.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#if BOOST_VERSION >= 108400
#define TENANTRY_PFR_HAS_NAMES 1
#else
#define TENANTRY_PFR_HAS_NAMES 0
#endif

namespace tenantry::reflect {

/// True for the structs tenantry can reflect: aggregates without virtual functions.
template <class T>
concept reflectable =
    std::is_class_v<T> && std::is_aggregate_v<T> && !std::is_polymorphic_v<T>;

namespace detail {

// Never defined: only addresses inside it are taken, and only in constant expressions. A static
// member of a class template (rather than an extern variable template) keeps clang's
// -Wundefined-var-template quiet.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wundefined-var-template"
#pragma clang diagnostic ignored "-Wundefined-internal"
#endif
template <class T>
struct fake_holder {
  const T value;
  static const fake_holder instance_never_defined;
};
// A function, not a reference variable: an instantiated reference variable may be emitted
// (pointing at the undefined object) when T has internal linkage.
template <class T>
consteval const T& fake_object() {
  return fake_holder<T>::instance_never_defined.value;
}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

// Clang will not accept a pointer to a subobject as a template argument directly; wrapping it
// in a literal class type is accepted by both compilers.
template <class P>
struct ptr_wrapper {
  P ptr;
};

template <auto Wrapped>
consteval std::string_view pretty_of_field() {
  return __PRETTY_FUNCTION__;
}

// The pretty function text holds the wrapped pointer, e.g.
//   gcc:   "[with auto Wrapped = ptr_wrapper<...>{(& fake_holder<Foo>::...value.Foo::org_id)}; ...]"
//   clang: "[Wrapped = ptr_wrapper<...>{&fake_holder<Foo>::...value.org_id}]"
// so the field name is the identifier that ends just before the wrapper's closing brace.
consteval bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The identifier ending at or before `end` (skipping closing parentheses and spaces).
consteval std::string_view identifier_before(std::string_view s, std::size_t end) {
  while (end > 0 && (s[end - 1] == ')' || s[end - 1] == ' ')) --end;
  std::size_t begin = end;
  while (begin > 0 && is_ident_char(s[begin - 1])) --begin;
  return s.substr(begin, end - begin);
}

consteval std::string_view field_name_from_pretty(std::string_view s) {
  // The wrapper's closing brace is followed by ']' (clang) or ';' (gcc); a '}' inside the text,
  // as in gcc's "{anonymous}::S::field", is followed by ':'.
  const std::size_t at = s.find("Wrapped = ");
  std::size_t close = s.find("}]", at);
  if (const std::size_t semi = s.find("};", at); semi < close) close = semi;
  return identifier_before(s, close);
}

template <class T, std::size_t I>
consteval std::string_view field_name_impl() {
  constexpr auto* ptr = &boost::pfr::get<I>(fake_object<T>());
  return field_name_from_pretty(pretty_of_field<ptr_wrapper<decltype(ptr)>{ptr}>());
}

template <class T>
consteval void assert_reflectable() {
  static_assert(std::is_class_v<T>, "tenantry: an entity must be a struct");
  static_assert(!std::is_polymorphic_v<T>,
                "tenantry: an entity must be a plain struct: no virtual functions");
  static_assert(std::is_aggregate_v<T>,
                "tenantry: an entity must be an aggregate: no user-declared constructors, no "
                "private members");
  static_assert(std::is_default_constructible_v<T>,
                "tenantry: an entity must be default constructible (rows are decoded into a "
                "value-initialised struct), so its fields must be values, not references");
}

}  // namespace detail

/// Number of fields of T.
template <class T>
inline constexpr std::size_t field_count = (detail::assert_reflectable<T>(), boost::pfr::tuple_size_v<T>);

/// Type of the I-th field of T.
template <std::size_t I, class T>
using field_type = boost::pfr::tuple_element_t<I, T>;

namespace detail {
template <class T, std::size_t... I>
consteval bool no_reference_fields(std::index_sequence<I...>) {
  return (!std::is_reference_v<field_type<I, T>> && ...);
}
}  // namespace detail

/// Checks every requirement tenantry puts on an entity and names the broken one.
template <class T>
consteval bool check_entity_shape() {
  detail::assert_reflectable<T>();
  constexpr auto seq = std::make_index_sequence<field_count<T>>{};
  static_assert(detail::no_reference_fields<T>(seq),
                "tenantry: entity fields must be values, not references");
  // C array members cannot be detected before Boost.PFR trips over them: aggregate
  // initialisation counts one field per element (brace elision), and the structured binding
  // PFR then writes fails with "N names provided for structured binding". Use std::array.
  return true;
}

/// Compile-time name of the I-th field of T.
template <class T, std::size_t I>
inline constexpr std::string_view field_name =
#if TENANTRY_PFR_HAS_NAMES
    boost::pfr::get_name<I, T>();
#else
    detail::field_name_impl<T, I>();
#endif

/// All field names of T, in declaration order.
template <class T>
inline constexpr auto field_names = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<std::string_view, sizeof...(I)>{field_name<T, I>...};
}(std::make_index_sequence<field_count<T>>{});

/// Sentinel for "no such field".
inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

/// Index of the field that `member` points to, or npos. Usable only in constant expressions
/// (constexpr rather than consteval only because clang 14 rejects consteval calls nested in
/// consteval function templates).
template <class T, class M>
constexpr std::size_t index_of(M T::*member) {
  const void* target = static_cast<const void*>(&(detail::fake_object<T>().*member));
  std::size_t found = npos;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((static_cast<const void*>(&boost::pfr::get<I>(detail::fake_object<T>())) == target ? (found = I, 0) : 0),
     ...);
  }(std::make_index_sequence<field_count<T>>{});
  return found;
}

/// Runtime twin of index_of, for member pointers that are not constants (e.g. an argument of
/// Repository::set). It compares addresses inside one default-constructed probe object.
template <class T, class M>
std::size_t runtime_index_of(M T::*member) {
  static const T probe{};
  const void* target = static_cast<const void*>(&(probe.*member));
  std::size_t found = npos;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((static_cast<const void*>(&boost::pfr::get<I>(probe)) == target ? (found = I, 0) : 0), ...);
  }(std::make_index_sequence<field_count<T>>{});
  return found;
}

/// Calls f(field, index_constant) for every field of `value`.
template <class T, class F>
constexpr void for_each_field(T&& value, F&& f) {
  using U = std::remove_cvref_t<T>;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(boost::pfr::get<I>(value), std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<field_count<U>>{});
}

/// Class of a pointer to data member.
template <class P>
struct member_pointer_traits;
template <class T, class M>
struct member_pointer_traits<M T::*> {
  using class_type = T;
  using member_type = M;
};

// ---- enum reflection -------------------------------------------------------------------------
//
// Enumerator names are read the same way as field names, from the pretty-printed signature of
// a function templated on the enumerator value. Values that name no enumerator print as a cast,
// e.g. "(Color)7", which we recognise and skip. We probe values 0..enum_probe_limit-1.

inline constexpr int enum_probe_limit = 64;

namespace detail {
template <auto V>
consteval std::string_view pretty_of_enum() {
  return __PRETTY_FUNCTION__;
}

// "[with auto V = Color::red; ...]" (gcc) or "[V = Color::red]" (clang) for an enumerator;
// "(Color)7" for a value that names none.
template <class E, int V>
consteval std::string_view enum_name_impl() {
  const std::string_view s = pretty_of_enum<static_cast<E>(V)>();
  const std::size_t at = s.find("V = ") + 4;
  std::size_t end = at;
  while (end < s.size() && s[end] != ';' && s[end] != ']') ++end;
  const std::string_view value = s.substr(at, end - at);
  if (value.empty() || value.front() == '(' || value.front() == '-' ||
      (value.front() >= '0' && value.front() <= '9')) {
    return {};
  }
  return identifier_before(value, value.size());
}
}  // namespace detail

}  // namespace tenantry::reflect
