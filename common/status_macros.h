// Status propagation macros (Debian's Abseil 20220623 does not ship them).
#ifndef SOCLE_COMMON_STATUS_MACROS_H_
#define SOCLE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SOCLE_CONCAT_INNER_(a, b) a##b
#define SOCLE_CONCAT_(a, b) SOCLE_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                                  \
  do {                                                         \
    ::absl::Status socle_status_ = (expr);                     \
    if (!socle_status_.ok()) return socle_status_;             \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F())`: assigns the value of an absl::StatusOr or
// returns its status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  SOCLE_ASSIGN_OR_RETURN_IMPL_(SOCLE_CONCAT_(socle_statusor_, __LINE__), lhs, expr)

#define SOCLE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // SOCLE_COMMON_STATUS_MACROS_H_
