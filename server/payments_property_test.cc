// A property test of payments: seeded random scenarios of persons,
// enrolments, a payroll cycle, payments, replays, conflicting duplicates,
// supplements, reversals, payments without a line, deaths and closing,
// checked step by step against a simple model, and reconciled at the end:
// - every call answers what the model predicts (code and reason);
// - a replayed key never records a second payment;
// - the reconciliation equals the model, figure by figure, and balances;
// - across the run, every reconciliation category occurs.
//
// Each scenario has a fresh database in /dev/shm when there is one (where
// an fsync costs nothing), so thousands of steps take a few seconds.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/field_error.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/payments.h"
#include "server/test_util.h"
#include "storage/sqlite/sqlite_store.h"

namespace socle {
namespace {

constexpr uint32_t kSeed = 20261125;
constexpr int kScenarios = 120;
constexpr int kStepsPerScenario = 40;

const absl::CivilDay kFirst(2026, 11, 1);
const absl::CivilDay kLast(2026, 11, 30);
const char* const kOffices[] = {"KH-SR-03", "KH-SR-07", "KH-PP-01"};
const char* const kProgrammes[] = {"OLD_AGE", "DISABILITY"};

std::string ReasonOf(const absl::Status& s) {
  auto info = GetErrorInfo(s);
  return info ? info->reason : "";
}

// A directory in memory when possible, else under $TMPDIR.
class ScratchDir {
 public:
  ScratchDir() {
    std::string base = "/dev/shm";
    if (access(base.c_str(), W_OK) != 0) {
      const char* tmp = std::getenv("TMPDIR");
      base = tmp ? tmp : "/tmp";
    }
    std::string pattern = base + "/socle-prop-XXXXXX";
    path_ = mkdtemp(pattern.data()) ? pattern : "";
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ModelPerson {
  int64_t id = 0;
  std::string office;
  std::optional<absl::CivilDay> died;
  bool DeadBeforePeriod() const { return died && *died < kFirst; }
};

struct ModelLine {
  std::string line_id;  // "L.."
  int64_t enrolment_id = 0;
  int64_t person_id = 0;
  std::string programme;
  std::string office;
  int64_t owed = 0;
  int64_t net = 0;    // effective payments
  int64_t count = 0;  // effective payments
};

struct ModelPayment {
  std::string key;
  std::string payment_id;
  v1::RecordPaymentRequest request;
  std::string line_id;  // empty: none
  int64_t person_id = 0;
  std::string programme;
  std::string office;
  int64_t amount = 0;
  bool reversed = false;
};

// Reconciliation figures of one office and programme (one currency: KHR).
struct Figures {
  int64_t lines = 0, owed = 0, payments = 0, paid = 0, reversed = 0, outstanding = 0,
          excess = 0;
  std::map<v1::Category, int64_t> categories;
};

class PaymentsPropertyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The policy, loaded once through the logic that loads it at start.
    policy_ = new PolicyHolder;
    testing::TempDir dir;
    auto store = testing::OpenTestStore(dir);
    FakeClock clock(testing::TestNow());
    Eligibility eligibility(store.get(), &clock, policy_);
    absl::Status loaded = eligibility.LoadAtStart(
        {std::string(SOCLE_SOURCE_DIR) + "/deploy/policy/default.textproto"});
    ASSERT_TRUE(loaded.ok()) << loaded;
  }
  static void TearDownTestSuite() {
    delete policy_;
    policy_ = nullptr;
  }
  static PolicyHolder* policy_;
};

PolicyHolder* PaymentsPropertyTest::policy_ = nullptr;

class Scenario {
 public:
  Scenario(int number, std::mt19937& rng, PolicyHolder* policy)
      : number_(number),
        rng_(rng),
        clock_(testing::TestNow()),
        admin_{CallerKind::kAdmin, "admin:ministry", "", Role::kNone, ""},
        clerk_{CallerKind::kTest, "terminal:KH-SR-03:T01", "KH-SR-03", Role::kNone, ""} {
    storage::SqliteOptions options;
    options.path = dir_.path() + "/socle.db";
    options.reader_connections = 1;
    auto store = storage::OpenSqliteStore(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (store.ok()) store_ = *std::move(store);
    payments_ = std::make_unique<Payments>(store_.get(), &clock_, policy);
  }

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Int(1, 100) <= percent; }
  template <typename T>
  T& Pick(std::vector<T>& v) { return v[Int(0, static_cast<int>(v.size()) - 1)]; }

  // Persons and enrolments, written straight to the store: the payroll's
  // input, in every shape the payroll must sort out.
  void Populate() {
    const int n = Int(3, 9);
    ASSERT_TRUE(store_
                    ->Write([&](storage::Txn& txn) -> absl::Status {
                      for (int i = 0; i < n; ++i) {
                        storage::PersonRecord p;
                        p.version = 1;
                        p.given_name = absl::StrCat("P", i);
                        p.family_name = "Property";
                        p.sex = 1;
                        p.date_of_birth = absl::CivilDay(1950, 1, 1);
                        p.office_code = kOffices[Int(0, 2)];
                        p.registered_at = clock_.Now();
                        p.updated_at = clock_.Now();
                        ASSIGN_OR_RETURN(p.id, txn.InsertPerson(p));
                        persons_[p.id] = {p.id, p.office_code, std::nullopt};
                        for (const char* programme : kProgrammes) {
                          if (!Chance(60)) continue;
                          storage::EnrolmentRecord e;
                          e.person_id = p.id;
                          e.programme_code = programme;
                          e.office_code = Chance(90) ? p.office_code : kOffices[Int(0, 2)];
                          const int shape = Int(0, 9);
                          e.status = shape == 0 ? 2 : shape == 1 ? 3 : 1;
                          e.start_date = shape == 2 ? absl::CivilDay(2026, 12, 1)
                                                    : absl::CivilDay(2026, Int(1, 11), 1);
                          if (e.status == 3) e.end_date = absl::CivilDay(2026, 10, 31);
                          if (shape == 3) e.end_date = kFirst;  // active, last day the 1st
                          e.amount_minor = shape == 4 ? 0 : Int(1, 400) * 1000;
                          e.currency = "KHR";
                          e.policy_version = "2026.1";
                          e.version = 1;
                          e.created_at = clock_.Now();
                          e.updated_at = clock_.Now();
                          ASSIGN_OR_RETURN(e.id, txn.InsertEnrolment(e));
                          const bool owed = e.status == 1 && e.start_date <= kLast &&
                                            (!e.end_date || *e.end_date >= kFirst) &&
                                            e.amount_minor > 0;
                          if (owed) expected_lines_[e.id] = e;
                        }
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }

  void OpenCycles() {
    for (const char* programme : kProgrammes) {
      v1::OpenCycleRequest r;
      r.set_request_id(absl::StrCat("open-", programme));
      r.set_programme_code(programme);
      r.set_period("2026-11");
      auto cycle = payments_->OpenCycle(admin_, r);
      ASSERT_TRUE(cycle.ok()) << cycle.status();
      cycles_[programme] = *cycle;
      // Opening again adds nothing.
      r.set_request_id(absl::StrCat("reopen-", programme));
      auto again = payments_->OpenCycle(admin_, r);
      ASSERT_TRUE(again.ok());
      ASSERT_EQ(again->cycle_id(), cycle->cycle_id());
      ASSERT_EQ(again->line_count(), cycle->line_count());

      v1::ListCycleLinesRequest list;
      list.set_cycle_id(cycle->cycle_id());
      list.set_chunk_size(Int(1, 4));
      auto listing = payments_->BeginListLines(admin_, list);
      ASSERT_TRUE(listing.ok());
      while (!listing->done) {
        auto chunk = payments_->NextLines(*listing);
        ASSERT_TRUE(chunk.ok());
        for (const v1::Line& l : chunk->lines()) {
          ModelLine m;
          m.line_id = l.line_id();
          ASSERT_TRUE(ParseBeneficiaryNumber(l.beneficiary_number(), "").ok());
          m.person_id = *ParseBeneficiaryNumber(l.beneficiary_number(), "");
          m.programme = l.programme_code();
          m.office = l.office_code();
          m.owed = l.amount().minor_units();
          m.enrolment_id = std::stoll(l.enrolment_id().substr(1));
          // The line is the enrolment's, frozen as it was.
          auto it = expected_lines_.find(m.enrolment_id);
          ASSERT_NE(it, expected_lines_.end()) << "unexpected line " << l.line_id();
          EXPECT_EQ(it->second.amount_minor, m.owed);
          EXPECT_EQ(it->second.office_code, m.office);
          EXPECT_EQ(it->second.programme_code, m.programme);
          lines_[m.line_id] = m;
          line_order_.push_back(m.line_id);
        }
      }
    }
    ASSERT_EQ(lines_.size(), expected_lines_.size());
  }

  bool Closed(const std::string& programme) const {
    return closed_.count(programme) > 0;
  }

  // The outcome the model predicts for a new payment (OK or a reason).
  std::string Predict(const std::string& programme, int64_t person_id, const ModelLine* line,
                      bool supplement) const {
    if (Closed(programme)) return "CYCLE_CLOSED";
    if (persons_.at(person_id).DeadBeforePeriod()) return "PERSON_DECEASED";
    if (line && line->net >= line->owed && !supplement) return "LINE_PAID_IN_FULL";
    return "";
  }

  v1::RecordPaymentRequest NewLinePayment(const ModelLine& line) {
    v1::RecordPaymentRequest r;
    r.set_idempotency_key(absl::StrCat("s", number_, "-k", ++keys_));
    r.set_line_id(line.line_id);
    int64_t amount = line.owed;
    switch (Int(0, 5)) {
      case 0: amount = std::max<int64_t>(1, line.owed / Int(2, 4)); break;  // part
      case 1: amount = line.owed + Int(1, 50) * 100; break;                   // too much
      default: break;                                                         // in full
    }
    r.mutable_amount()->set_minor_units(amount);
    r.mutable_amount()->set_currency("KHR");
    const int channel = Int(1, 3);
    r.set_channel(static_cast<v1::PaymentChannel>(channel));
    if (channel != 1 || Chance(20)) r.set_provider_reference(absl::StrCat("REF-", keys_));
    r.set_supplement(line.net >= line.owed && Chance(50));
    return r;
  }

  // Applies an accepted new payment to the model.
  void Accept(const v1::RecordPaymentRequest& r, const v1::Payment& p) {
    ModelPayment m;
    m.key = r.idempotency_key();
    m.payment_id = p.payment_id();
    m.request = r;
    m.line_id = p.line_id();
    m.person_id = *ParseBeneficiaryNumber(p.beneficiary_number(), "");
    m.programme = p.programme_code();
    m.office = p.office_code();
    m.amount = r.amount().minor_units();
    if (!m.line_id.empty()) {
      ModelLine& line = lines_.at(m.line_id);
      EXPECT_EQ(m.office, line.office);
      line.net += m.amount;
      ++line.count;
    } else {
      EXPECT_EQ(m.office, persons_.at(m.person_id).office);
    }
    payments_by_key_[m.key] = m;
    keys_in_order_.push_back(m.key);
    ++recorded_;
  }

  // Checks one answer against the prediction; records an accepted payment.
  void Check(const v1::RecordPaymentRequest& r, const std::string& predicted,
             const absl::StatusOr<v1::Payment>& got) {
    ++steps_;
    if (predicted.empty()) {
      ASSERT_TRUE(got.ok()) << got.status() << " for " << r.ShortDebugString();
      Accept(r, *got);
    } else {
      ASSERT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition)
          << predicted << ": " << got.status();
      ASSERT_EQ(ReasonOf(got.status()), predicted);
    }
  }

  void PayALine() {
    if (line_order_.empty()) return;
    ModelLine& line = lines_.at(Pick(line_order_));
    v1::RecordPaymentRequest r = NewLinePayment(line);
    const std::string predicted =
        Predict(line.programme, line.person_id, &line, r.supplement());
    Check(r, predicted, payments_->RecordPayment(clerk_, r));
  }

  // A person with no line in a programme's cycle, paid anyway.
  void PayWithoutLine() {
    const char* programme = kProgrammes[Int(0, 1)];
    std::vector<int64_t> candidates;
    for (const auto& [id, person] : persons_) {
      bool has_line = false;
      for (const auto& [line_id, line] : lines_) {
        has_line |= line.person_id == id && line.programme == programme;
      }
      if (!has_line) candidates.push_back(id);
    }
    if (candidates.empty()) return;
    const int64_t person = Pick(candidates);
    v1::RecordPaymentRequest r;
    r.set_idempotency_key(absl::StrCat("s", number_, "-k", ++keys_));
    r.mutable_beneficiary()->set_beneficiary_number(FormatBeneficiaryNumber(person));
    r.mutable_beneficiary()->set_programme_code(programme);
    r.mutable_beneficiary()->set_period("2026-11");
    r.set_without_line(Chance(85));
    r.mutable_amount()->set_minor_units(Int(1, 100) * 1000);
    r.mutable_amount()->set_currency("KHR");
    r.set_channel(v1::PAYMENT_CHANNEL_MOBILE_MONEY);
    r.set_provider_reference(absl::StrCat("MM-", keys_));
    // Without the flag, the missing line is the first thing refused.
    const std::string predicted =
        r.without_line() ? Predict(programme, person, nullptr, false) : "NO_LINE";
    Check(r, predicted, payments_->RecordPayment(clerk_, r));
  }

  // The same key again: the same payment, nothing new.
  void Replay() {
    if (keys_in_order_.empty()) return;
    const ModelPayment& m = payments_by_key_.at(Pick(keys_in_order_));
    auto got = payments_->RecordPayment(clerk_, m.request);
    ++steps_;
    ++replays_;
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->payment_id(), m.payment_id);
  }

  // The same key with other content: refused, naming the field.
  void Conflict() {
    if (keys_in_order_.empty()) return;
    const ModelPayment& m = payments_by_key_.at(Pick(keys_in_order_));
    v1::RecordPaymentRequest r = m.request;
    std::string field;
    switch (Int(0, 2)) {
      case 0:
        r.mutable_amount()->set_minor_units(r.amount().minor_units() + 1);
        field = "amount.minor_units";
        break;
      case 1:
        r.set_provider_reference(r.provider_reference() + "X");
        field = "provider_reference";
        break;
      default:
        r.set_channel(r.channel() == v1::PAYMENT_CHANNEL_BANK_TRANSFER
                          ? v1::PAYMENT_CHANNEL_MOBILE_MONEY
                          : v1::PAYMENT_CHANNEL_BANK_TRANSFER);
        if (r.provider_reference().empty()) r.set_provider_reference("R");
        field = "channel";
        break;
    }
    auto got = payments_->RecordPayment(clerk_, r);
    ++steps_;
    ++conflicts_;
    ASSERT_EQ(got.status().code(), absl::StatusCode::kAlreadyExists) << got.status();
    ASSERT_EQ(ReasonOf(got.status()), "IDEMPOTENCY_KEY_REUSED");
    ASSERT_EQ(GetErrorInfo(got.status())->metadata.at("field"), field);
  }

  void ReverseOne() {
    if (keys_in_order_.empty()) return;
    ModelPayment& m = payments_by_key_.at(Pick(keys_in_order_));
    v1::ReversePaymentRequest r;
    r.set_request_id(absl::StrCat("s", number_, "-rev", ++keys_));
    r.set_payment_id(m.payment_id);
    r.set_reason("reversed by the property test");
    auto got = payments_->ReversePayment(admin_, r);
    ++steps_;
    if (m.reversed) {
      ASSERT_EQ(ReasonOf(got.status()), "ALREADY_REVERSED") << got.status();
      return;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->reverses_payment_id(), m.payment_id);
    m.reversed = true;
    ++reversals_;
    if (!m.line_id.empty()) {
      ModelLine& line = lines_.at(m.line_id);
      line.net -= m.amount;
      --line.count;
    }
  }

  void DieOne() {
    ModelPerson& p = persons_.at(Pick(person_ids_));
    if (p.died) return;
    p.died = Chance(60) ? absl::CivilDay(2026, 10, Int(1, 31)) : absl::CivilDay(2026, 11, Int(1, 25));
    ++steps_;
    ASSERT_TRUE(store_
                    ->Write([&](storage::Txn& txn) -> absl::Status {
                      ASSIGN_OR_RETURN(storage::PersonRecord record, txn.GetPerson(p.id));
                      record.date_of_death = p.died;
                      ++record.version;
                      return txn.UpdatePerson(record);
                    })
                    .ok());
  }

  // A provider's batch: new payments and replays, each on its own; then the
  // same batch again, which changes nothing.
  void Batch() {
    if (line_order_.empty()) return;
    v1::RecordPaymentsRequest batch;
    std::vector<std::string> predicted;
    std::map<std::string, std::pair<int64_t, int64_t>> shadow;  // line -> net, count
    const int n = Int(2, 6);
    for (int i = 0; i < n; ++i) {
      if (!keys_in_order_.empty() && Chance(25)) {
        *batch.add_items() = payments_by_key_.at(Pick(keys_in_order_)).request;
        predicted.push_back("REPLAY");
        continue;
      }
      ModelLine line = lines_.at(Pick(line_order_));
      auto it = shadow.find(line.line_id);
      if (it != shadow.end()) std::tie(line.net, line.count) = it->second;
      v1::RecordPaymentRequest r = NewLinePayment(line);
      std::string p = Predict(line.programme, line.person_id, &line, r.supplement());
      if (p.empty()) shadow[line.line_id] = {line.net + r.amount().minor_units(), line.count + 1};
      *batch.add_items() = r;
      predicted.push_back(p);
    }
    auto got = payments_->RecordPayments(clerk_, batch);
    ++steps_;
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->results_size(), n);
    for (int i = 0; i < n; ++i) {
      const v1::PaymentResult& result = got->results(i);
      const v1::RecordPaymentRequest& item = batch.items(i);
      if (predicted[i] == "REPLAY") {
        ASSERT_EQ(result.status().code(), 0);
        ASSERT_TRUE(result.replayed());
        ASSERT_EQ(result.payment().payment_id(), payments_by_key_.at(item.idempotency_key()).payment_id);
      } else if (predicted[i].empty()) {
        ASSERT_EQ(result.status().code(), 0) << result.status().message();
        Accept(item, result.payment());
      } else {
        ASSERT_EQ(result.status().code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
        google::rpc::ErrorInfo info;
        ASSERT_EQ(result.status().details_size(), 1);
        ASSERT_TRUE(result.status().details(0).UnpackTo(&info));
        ASSERT_EQ(info.reason(), predicted[i]);
      }
    }
    const int64_t before = recorded_;
    auto again = payments_->RecordPayments(clerk_, batch);
    ++steps_;
    ASSERT_TRUE(again.ok()) << again.status();
    ASSERT_EQ(again->recorded(), 0) << "a retried batch recorded again";
    for (int i = 0; i < n; ++i) {
      if (got->results(i).status().code() == 0) {
        ASSERT_EQ(again->results(i).payment().payment_id(), got->results(i).payment().payment_id());
      }
    }
    ASSERT_EQ(recorded_, before);
  }

  void CloseOne() {
    const char* programme = kProgrammes[Int(0, 1)];
    v1::CloseCycleRequest r;
    r.set_request_id(absl::StrCat("close-", programme));
    r.set_cycle_id(cycles_.at(programme).cycle_id());
    auto got = payments_->CloseCycle(admin_, r);
    ++steps_;
    ASSERT_TRUE(got.ok()) << got.status();
    closed_.insert(programme);
  }

  void Run(int steps) {
    for (const auto& [id, p] : persons_) person_ids_.push_back(id);
    for (int i = 0; i < steps; ++i) {
      const int op = Int(1, 100);
      if (op <= 40) {
        PayALine();
      } else if (op <= 50) {
        PayWithoutLine();
      } else if (op <= 60) {
        Replay();
      } else if (op <= 66) {
        Conflict();
      } else if (op <= 76) {
        ReverseOne();
      } else if (op <= 82) {
        DieOne();
      } else if (op <= 94) {
        Batch();
      } else if (op <= 96 && i > steps / 2) {
        CloseOne();
      }
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

  // The reconciliation equals the model, figure by figure.
  void Reconcile(std::map<v1::Category, int64_t>& seen) {
    std::map<std::pair<std::string, std::string>, Figures> want;
    for (const auto& [id, line] : lines_) {
      Figures& f = want[{line.office, line.programme}];
      ++f.lines;
      f.owed += line.owed;
      f.outstanding += std::max<int64_t>(0, line.owed - line.net);
      f.excess += std::max<int64_t>(0, line.net - line.owed);
      ++f.categories[ClassifyLine(line.owed, line.net, line.count)];
    }
    for (const auto& [key, p] : payments_by_key_) {
      Figures& f = want[{p.office, p.programme}];
      ++f.payments;
      f.paid += p.amount;
      if (p.reversed) {
        f.reversed += p.amount;
        continue;
      }
      if (persons_.at(p.person_id).DeadBeforePeriod()) {
        ++f.categories[v1::CATEGORY_PAID_AFTER_DEATH];
      } else if (p.line_id.empty()) {
        ++f.categories[v1::CATEGORY_PAID_WITHOUT_ENTITLEMENT];
      }
      if (p.line_id.empty()) f.excess += p.amount;
    }
    v1::ReconcileRequest r;
    r.set_period("2026-11");
    r.set_max_discrepancies(Payments::kMaxDiscrepancies);
    auto report = payments_->Reconcile(admin_, r);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_TRUE(report->balanced());
    ASSERT_EQ(report->rows_size(), static_cast<int>(want.size()));
    int64_t discrepancies = 0;
    for (const v1::ReconciliationRow& row : report->rows()) {
      SCOPED_TRACE(absl::StrCat("scenario ", number_, " ", row.office_code(), " ",
                                row.programme_code()));
      const Figures& f = want[{row.office_code(), row.programme_code()}];
      auto cat = [&](v1::Category c) {
        auto it = f.categories.find(c);
        return it == f.categories.end() ? 0 : it->second;
      };
      EXPECT_EQ(row.currency(), "KHR");
      EXPECT_EQ(row.lines(), f.lines);
      EXPECT_EQ(row.owed_minor(), f.owed);
      EXPECT_EQ(row.payments(), f.payments);
      EXPECT_EQ(row.paid_minor(), f.paid);
      EXPECT_EQ(row.reversed_minor(), f.reversed);
      EXPECT_EQ(row.outstanding_minor(), f.outstanding);
      EXPECT_EQ(row.excess_minor(), f.excess);
      EXPECT_EQ(row.owed_minor() - (row.paid_minor() - row.reversed_minor()),
                row.outstanding_minor() - row.excess_minor());
      EXPECT_EQ(row.paid_in_full(), cat(v1::CATEGORY_PAID_IN_FULL));
      EXPECT_EQ(row.unpaid(), cat(v1::CATEGORY_UNPAID));
      EXPECT_EQ(row.underpaid(), cat(v1::CATEGORY_UNDERPAID));
      EXPECT_EQ(row.overpaid(), cat(v1::CATEGORY_OVERPAID));
      EXPECT_EQ(row.paid_twice(), cat(v1::CATEGORY_PAID_TWICE));
      EXPECT_EQ(row.paid_without_entitlement(), cat(v1::CATEGORY_PAID_WITHOUT_ENTITLEMENT));
      EXPECT_EQ(row.paid_after_death(), cat(v1::CATEGORY_PAID_AFTER_DEATH));
      for (const auto& [c, n] : f.categories) seen[c] += n;
      discrepancies += row.unpaid() + row.underpaid() + row.overpaid() + row.paid_twice() +
                       row.paid_without_entitlement() + row.paid_after_death();
    }
    // Every discrepancy is listed, each category as counted.
    EXPECT_EQ(report->discrepancies_size(), discrepancies);
    EXPECT_EQ(report->discrepancies_omitted(), 0);
    // Payments recorded in all: exactly the accepted ones, whatever was
    // replayed.
    int64_t payments = 0;
    for (const auto& row : report->rows()) payments += row.payments();
    EXPECT_EQ(payments, recorded_);
  }

  int steps() const { return steps_; }
  int replays() const { return replays_; }
  int conflicts() const { return conflicts_; }
  int reversals() const { return reversals_; }

 private:
  const int number_;
  std::mt19937& rng_;
  ScratchDir dir_;
  FakeClock clock_;
  Caller admin_;
  Caller clerk_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Payments> payments_;

  std::map<int64_t, ModelPerson> persons_;
  std::vector<int64_t> person_ids_;
  std::map<int64_t, storage::EnrolmentRecord> expected_lines_;  // by enrolment
  std::map<std::string, v1::Cycle> cycles_;                     // by programme
  std::set<std::string> closed_;
  std::map<std::string, ModelLine> lines_;
  std::vector<std::string> line_order_;
  std::map<std::string, ModelPayment> payments_by_key_;
  std::vector<std::string> keys_in_order_;
  int keys_ = 0;
  int64_t recorded_ = 0;
  int steps_ = 0, replays_ = 0, conflicts_ = 0, reversals_ = 0;
};

TEST_F(PaymentsPropertyTest, RandomCyclesReconcileToTheUnit) {
  std::mt19937 rng(kSeed);
  std::map<v1::Category, int64_t> seen;
  int steps = 0, replays = 0, conflicts = 0, reversals = 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kScenarios; ++i) {
    SCOPED_TRACE(absl::StrCat("seed ", kSeed, ", scenario ", i));
    Scenario s(i, rng, policy_);
    s.Populate();
    ASSERT_FALSE(HasFatalFailure());
    s.OpenCycles();
    ASSERT_FALSE(HasFatalFailure());
    s.Run(kStepsPerScenario);
    ASSERT_FALSE(HasFatalFailure());
    s.Reconcile(seen);
    ASSERT_FALSE(HasFailure());
    steps += s.steps();
    replays += s.replays();
    conflicts += s.conflicts();
    reversals += s.reversals();
  }
  for (v1::Category c :
       {v1::CATEGORY_PAID_IN_FULL, v1::CATEGORY_UNPAID, v1::CATEGORY_UNDERPAID,
        v1::CATEGORY_OVERPAID, v1::CATEGORY_PAID_TWICE, v1::CATEGORY_PAID_WITHOUT_ENTITLEMENT,
        v1::CATEGORY_PAID_AFTER_DEATH}) {
    EXPECT_GT(seen[c], 0) << v1::Category_Name(c) << " never occurred";
  }
  EXPECT_GT(steps, 3000);
  EXPECT_GT(replays, 100);
  EXPECT_GT(conflicts, 50);
  EXPECT_GT(reversals, 100);
  std::cout << "[ property ] " << kScenarios << " scenarios, " << steps << " steps ("
            << replays << " replays, " << conflicts << " conflicting keys, " << reversals
            << " reversals) in " << absl::FormatDuration(absl::Now() - start) << "; categories:";
  for (const auto& [c, n] : seen) std::cout << " " << v1::Category_Name(c) << "=" << n;
  std::cout << "\n";
}

}  // namespace
}  // namespace socle
