// Early returns for functions that return absl::Status or absl::StatusOr<T>,
// so that a chain of steps reads as a list rather than as `if (!s.ok())`
// after each. These are the forms Google-style C++ code knows by these
// names; Debian's Abseil (20220623) does not provide them.
//
//   RETURN_IF_ERROR(expr);
//     `expr` is an absl::Status. If it is not OK, the enclosing function
//     returns it. Safe as the body of an unbraced `if`.
//
//   ASSIGN_OR_RETURN(lhs, expr);
//     `expr` is an absl::StatusOr<T>, evaluated once. If it is not OK, the
//     enclosing function returns its status; otherwise its value is moved
//     into `lhs`, a new variable or an existing one:
//       ASSIGN_OR_RETURN(auto page, ledger.ListSubject(query));
//       ASSIGN_OR_RETURN(*response.mutable_checkpoint(), ledger.Checkpoint());
//     It expands to several statements, so it needs braces when it is the
//     body of an `if` or a loop; `expr` may not contain an unparenthesised
//     comma (`ASSIGN_OR_RETURN(x, (Make<A, B>()))`).
//
// Both hand the status on unchanged, code and message, so wrapping a call
// in them never changes what a caller sees.
#ifndef INNSYN_BASE_STATUS_MACROS_H_
#define INNSYN_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RETURN_IF_ERROR(expr)                                                       \
  do {                                                                              \
    if (::absl::Status innsyn_macro_status_ = (expr); !innsyn_macro_status_.ok()) { \
      return innsyn_macro_status_;                                                  \
    }                                                                               \
  } while (false)

#define ASSIGN_OR_RETURN(lhs, expr)                                                             \
  INNSYN_ASSIGN_OR_RETURN_IMPL_(INNSYN_MACRO_CONCAT_(innsyn_macro_statusor_, __COUNTER__), lhs, \
                                expr)

// Implementation details of the macros above.
#define INNSYN_MACRO_CONCAT_INNER_(x, y) x##y
#define INNSYN_MACRO_CONCAT_(x, y) INNSYN_MACRO_CONCAT_INNER_(x, y)
#define INNSYN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // INNSYN_BASE_STATUS_MACROS_H_
