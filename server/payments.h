// Payments: payroll cycles, payments recorded exactly once, reversals and
// reconciliation. Logic only (no gRPC): over a Store, a Clock and the policy
// in force; the contract of every call is in proto/socle/v1/payments.proto.
#ifndef SOCLE_SERVER_PAYMENTS_H_
#define SOCLE_SERVER_PAYMENTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "server/caller.h"
#include "server/eligibility.h"
#include "socle/v1/payments.pb.h"
#include "storage/store.h"

namespace socle {

// A period "YYYY-MM": its first and last days.
struct Period {
  std::string text;
  absl::CivilDay first_day;
  absl::CivilDay last_day;
};
// INVALID_ARGUMENT naming `field` unless `text` is "YYYY-MM" with a year in
// 1..9999 and a month in 1..12.
absl::StatusOr<Period> ParsePeriod(absl::string_view text, absl::string_view field);

// How a line of `owed` stands with `net` paid by `count` effective payments
// (the rules of socle.v1.Category; CATEGORY_PAID_IN_FULL when net == owed).
v1::Category ClassifyLine(int64_t owed, int64_t net, int64_t count);
// The line status shown by ListCycleLines.
v1::LineStatus LineStatusOf(int64_t owed, int64_t net);

// Printed ids: "C" cycle, "L" line, "P" payment, and a number. The parsers
// return INVALID_ARGUMENT naming `field`.
std::string FormatCycleId(int64_t id);
std::string FormatLineId(int64_t id);
std::string FormatPaymentId(int64_t id);
absl::StatusOr<int64_t> ParseCycleId(absl::string_view text, absl::string_view field);
absl::StatusOr<int64_t> ParseLineId(absl::string_view text, absl::string_view field);
absl::StatusOr<int64_t> ParsePaymentId(absl::string_view text, absl::string_view field);

class Payments {
 public:
  // Batch and listing limits (see payments.proto).
  static constexpr int kMaxBatch = 1000;
  static constexpr int kDefaultChunk = 500;
  static constexpr int kMaxChunk = 1000;
  static constexpr int kDefaultDiscrepancies = 1000;
  static constexpr int kMaxDiscrepancies = 10000;
  static constexpr int kMaxStatementRows = 50000;

  // All pointers must outlive this object. `policy` says which programmes
  // are paid monthly.
  Payments(storage::Store* store, const Clock* clock, PolicyHolder* policy)
      : store_(*store), clock_(*clock), policy_(*policy) {}

  absl::StatusOr<v1::Cycle> OpenCycle(const Caller& caller,
                                      const v1::OpenCycleRequest& request);
  absl::StatusOr<v1::Cycle> GetCycle(const Caller& caller,
                                     const v1::GetCycleRequest& request);
  absl::StatusOr<v1::ListCyclesResponse> ListCycles(
      const Caller& caller, const v1::ListCyclesRequest& request);
  absl::StatusOr<v1::Cycle> CloseCycle(const Caller& caller,
                                       const v1::CloseCycleRequest& request);

  // ListCycleLines, chunk by chunk: BeginListLines validates the request and
  // finds the cycle (INVALID_ARGUMENT, NOT_FOUND); each NextLines reads the
  // next chunk in its own read transaction (lines never change; the payment
  // figures are those of the moment the chunk is read) and sets `done` once
  // no line is left. A chunk may be empty only when done.
  struct LineListing {
    v1::ListCycleLinesRequest request;
    int64_t cycle_id = 0;
    std::string programme_code;
    std::string period;
    int chunk_size = kDefaultChunk;
    int64_t after_enrolment_id = 0;
    bool done = false;
  };
  absl::StatusOr<LineListing> BeginListLines(const Caller& caller,
                                             const v1::ListCycleLinesRequest& request);
  absl::StatusOr<v1::ListCycleLinesResponse> NextLines(LineListing& listing);

  absl::StatusOr<v1::Payment> RecordPayment(const Caller& caller,
                                            const v1::RecordPaymentRequest& request);
  absl::StatusOr<v1::RecordPaymentsResponse> RecordPayments(
      const Caller& caller, const v1::RecordPaymentsRequest& request);
  absl::StatusOr<v1::Payment> ReversePayment(const Caller& caller,
                                             const v1::ReversePaymentRequest& request);

  absl::StatusOr<v1::ReconciliationReport> Reconcile(const Caller& caller,
                                                     const v1::ReconcileRequest& request);
  absl::StatusOr<v1::StatementReconciliation> ReconcileStatement(
      const Caller& caller, const v1::ReconcileStatementRequest& request);

 private:
  struct Plan;
  // Everything RecordPayment decides, by reads only: a replay, a payment to
  // insert, or the item's error.
  absl::StatusOr<Plan> PlanPayment(storage::ReadTxn& txn, const Caller& caller,
                                   const v1::RecordPaymentRequest& request,
                                   absl::Time now);
  // Inserts a planned payment and its audit entry.
  absl::StatusOr<v1::Payment> ApplyPayment(storage::Txn& txn, const Caller& caller,
                                           Plan& plan, absl::Time now);
  // Records one item in its own transaction.
  absl::StatusOr<v1::PaymentResult> RecordAlone(const Caller& caller,
                                                const v1::RecordPaymentRequest& request,
                                                absl::Time now);
  absl::Status CheckProgramme(absl::string_view programme_code);

  storage::Store& store_;
  const Clock& clock_;
  PolicyHolder& policy_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_PAYMENTS_H_
