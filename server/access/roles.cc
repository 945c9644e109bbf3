#include "server/access/roles.h"

#include <initializer_list>

#include "absl/container/flat_hash_map.h"

namespace socle {
namespace {

// A set of roles as a bit mask over the Role numbers.
using RoleMask = unsigned;
constexpr RoleMask Bit(Role r) { return 1u << static_cast<unsigned>(r); }
constexpr RoleMask kClerk = Bit(Role::kClerk);
constexpr RoleMask kSupervisor = Bit(Role::kSupervisor);
constexpr RoleMask kMinistry = Bit(Role::kMinistry);
constexpr RoleMask kStatistics = Bit(Role::kStatistics);
constexpr RoleMask kAuditor = Bit(Role::kAuditor);
constexpr RoleMask kAdmin = Bit(Role::kAdmin);
constexpr RoleMask kCounter = kClerk | kSupervisor;

// Reading a person's record: the office (scoped to it), the ministry
// (audited), statistics (without personal data), auditors.
constexpr RoleMask kRecordReaders = kCounter | kMinistry | kStatistics | kAuditor;
constexpr RoleMask kReportReaders = kMinistry | kStatistics | kAuditor | kAdmin;

const absl::flat_hash_map<std::string, RoleMask>& Table() {
  static const auto* table = new absl::flat_hash_map<std::string, RoleMask>{
      // Registry: registration is counter work; reads as above. Searching
      // by name is refused to statistics, which may not see names.
      {"socle.v1.Registry.RegisterPerson", kCounter},
      // A batch: counter work at the office's own terminal, or an
      // administrator importing an existing registry (any office).
      {"socle.v1.Registry.RegisterPersons", kCounter | kAdmin},
      {"socle.v1.Registry.GetPerson", kRecordReaders},
      {"socle.v1.Registry.UpdatePerson", kCounter},
      {"socle.v1.Registry.FindPersons", kCounter | kMinistry | kAuditor},
      {"socle.v1.Registry.CreateHousehold", kCounter},
      {"socle.v1.Registry.GetHousehold", kRecordReaders},
      {"socle.v1.Registry.AddHouseholdMember", kCounter},
      {"socle.v1.Registry.RemoveHouseholdMember", kCounter},
      {"socle.v1.Registry.SetHouseholdHead", kCounter},
      {"socle.v1.Registry.RecordLifeEvent", kCounter},
      {"socle.v1.Registry.ListLifeEvents", kRecordReaders},
      // Eligibility and enrolment.
      {"socle.v1.Eligibility.CheckEligibility", kCounter | kMinistry},
      {"socle.v1.Eligibility.Enrol", kCounter},
      {"socle.v1.Eligibility.SuspendEnrolment", kCounter},
      {"socle.v1.Eligibility.ResumeEnrolment", kCounter},
      {"socle.v1.Eligibility.EndEnrolment", kCounter},
      {"socle.v1.Eligibility.ListEnrolments", kRecordReaders | kAdmin},
      {"socle.v1.Eligibility.Recertify", kAdmin},
      // Policy administration.
      {"socle.v1.PolicyAdmin.GetPolicy",
       kCounter | kMinistry | kStatistics | kAuditor | kAdmin},
      {"socle.v1.PolicyAdmin.ValidatePolicy", kMinistry | kAdmin},
      {"socle.v1.PolicyAdmin.SimulatePolicy", kMinistry | kStatistics | kAdmin},
      {"socle.v1.PolicyAdmin.ActivatePolicy", kAdmin},
      {"socle.v1.PolicyAdmin.GetCoverage", kSupervisor | kReportReaders},
      // Payments: cycles are opened and closed by administrators; cash is
      // paid at the counter, provider batches come from ministry systems;
      // reversals need a supervisor or an administrator.
      {"socle.v1.Payments.OpenCycle", kAdmin},
      {"socle.v1.Payments.GetCycle", kCounter | kReportReaders},
      {"socle.v1.Payments.ListCycles", kCounter | kReportReaders},
      {"socle.v1.Payments.ListCycleLines", kCounter | kMinistry | kAuditor | kAdmin},
      {"socle.v1.Payments.CloseCycle", kAdmin},
      {"socle.v1.Payments.RecordPayment", kCounter | kMinistry},
      {"socle.v1.Payments.RecordPayments", kMinistry | kAdmin},
      {"socle.v1.Payments.ReversePayment", kSupervisor | kAdmin},
      {"socle.v1.Payments.Reconcile", kReportReaders},
      {"socle.v1.Payments.ReconcileStatement", kMinistry | kAuditor | kAdmin},
      // Access: Login is the terminal's own call (see kLoginMethod); users
      // are managed by administrators.
      {"socle.v1.Access.Login", 0},
      {"socle.v1.UserAdmin.AddUser", kAdmin},
      {"socle.v1.UserAdmin.DisableUser", kAdmin},
      {"socle.v1.UserAdmin.ResetPassword", kAdmin},
      {"socle.v1.UserAdmin.ListUsers", kAdmin | kAuditor},
      // The audit trail: read by auditors and administrators (the chain,
      // queries, signed checkpoints).
      {"socle.v1.AuditAdmin.ListAuditChain", kAuditor | kAdmin},
      {"socle.v1.AuditAdmin.QueryAudit", kAuditor | kAdmin},
      {"socle.v1.AuditAdmin.GetAuditCheckpoint", kAuditor | kAdmin},
      // Re-sealing personal data under the newest key.
      {"socle.v1.KeysAdmin.RotateKeys", kAdmin},
  };
  return *table;
}

}  // namespace

bool RoleMayCall(Role role, absl::string_view method) {
  if (role == Role::kNone) return false;
  const auto& table = Table();
  auto it = table.find(method);
  return it != table.end() && (it->second & Bit(role)) != 0;
}

std::vector<std::string> MethodsInRoleTable() {
  std::vector<std::string> methods;
  for (const auto& [method, roles] : Table()) methods.push_back(method);
  return methods;
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kNone: return "none";
    case Role::kClerk: return "clerk";
    case Role::kSupervisor: return "supervisor";
    case Role::kMinistry: return "ministry";
    case Role::kStatistics: return "statistics";
    case Role::kAuditor: return "auditor";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

}  // namespace socle
