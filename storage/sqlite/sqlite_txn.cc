#include "storage/sqlite/sqlite_txn.h"

#include <iterator>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/dates.h"
#include "common/status_macros.h"
#include "storage/sealed_columns.h"

namespace socle::storage::sqlite_internal {
namespace {

// Column lists; the readers below depend on their order.
#define SOCLE_PERSON_COLUMNS                                                  \
  "p.id, p.version, p.national_id, p.given_name, p.family_name, p.sex, "      \
  "p.date_of_birth, p.date_of_death, p.province, p.district, p.commune, "     \
  "p.village, p.street, p.phone, p.office_code, p.name_key, p.district_key, " \
  "p.facts, p.duplicate_override_reason, p.registered_at, p.updated_at, "     \
  "p.national_id_sealed, p.sealed"
#define SOCLE_HOUSEHOLD_COLUMNS                                              \
  "id, version, office_code, province, district, commune, village, street, " \
  "head_person_id, created_at"
#define SOCLE_MEMBER_COLUMNS "household_id, person_id, relationship, seq"
#define SOCLE_EVENT_COLUMNS                                       \
  "id, person_id, date, type, details, correction, recorded_at, " \
  "recorded_by, office_code, sealed"
#define SOCLE_REQUEST_COLUMNS \
  "request_id, method, request, response, created_at, sealed"
#define SOCLE_AUDIT_COLUMNS \
  "seq, at, actor, office_code, action, subject, details, prev_hash, hash"
// The conditions of an audit query (see kQueryAudit). substr and length
// count characters on both sides, so the prefix test is exact.
#define SOCLE_AUDIT_FILTER                                             \
  " AND (?2 = '' OR subject = ?2)"                                     \
  " AND (?3 = '' OR substr(actor, 1, length(?3)) = ?3)"                \
  " AND (?4 = '' OR office_code = ?4) AND at >= ?5 AND at < ?6"         \
  " ORDER BY seq LIMIT ?7"
#define SOCLE_ENROLMENT_COLUMNS                                            \
  "id, person_id, programme_code, office_code, status, start_date, "       \
  "end_date, amount_minor, currency, policy_version, version, created_at, " \
  "updated_at, details"
#define SOCLE_POLICY_COLUMNS "seq, activated_at, activated_by, file_name, text"
#define SOCLE_CYCLE_COLUMNS                                       \
  "id, programme_code, period, status, opened_at, opened_by, " \
  "closed_at, closed_by"
// A payment that is not a reversal entry and that no reversal entry
// reverses (the UNIQUE index on reversal_of answers the NOT EXISTS). The
// "+" keeps the planner off that index for "reversal_of IS NULL": it takes
// a UNIQUE index for selective, but nearly every payment has NULL there,
// and the index of the line or of the period is the one to use.
#define SOCLE_EFFECTIVE(p)                     \
  "+" p ".reversal_of IS NULL AND NOT EXISTS " \
      "(SELECT 1 FROM payments r WHERE r.reversal_of = " p ".id)"
// Lines with their payment figures (two lookups in payments_by_line).
#define SOCLE_LINE_COLUMNS                                                     \
  "l.id, l.cycle_id, l.enrolment_id, l.person_id, l.programme_code, "          \
  "l.office_code, l.amount_minor, l.currency, "                                \
  "(SELECT count(*) FROM payments q WHERE q.line_id = l.id AND "               \
  SOCLE_EFFECTIVE("q") ") AS n, "                                              \
  "(SELECT coalesce(sum(q.amount_minor), 0) FROM payments q WHERE "           \
  "q.line_id = l.id AND " SOCLE_EFFECTIVE("q") ") AS net"
#define SOCLE_PAYMENT_COLUMNS                                                 \
  "p.id, p.idempotency_key, p.cycle_id, p.line_id, p.person_id, "             \
  "p.programme_code, p.period, p.office_code, p.amount_minor, p.currency, "   \
  "p.channel, p.provider_reference, p.paid_at, p.supplement, p.note, "        \
  "p.recorded_at, p.recorded_by, p.reversal_of, p.reversal_reason, "          \
  "(SELECT r.id FROM payments r WHERE r.reversal_of = p.id)"
#define SOCLE_USER_COLUMNS                                                \
  "user_name, display_name, role, office_code, disabled, password_hash, " \
  "version, created_at, updated_at"

constexpr const char* kSqlText[] = {
    // kBeginDeferred
    "BEGIN",
    // kBeginImmediate
    "BEGIN IMMEDIATE",
    // kCommit
    "COMMIT",
    // kRollback
    "ROLLBACK",
    // kSavepoint
    "SAVEPOINT w",
    // kRelease
    "RELEASE w",
    // kRollbackTo
    "ROLLBACK TO w",
    // kInsertPerson: ?1 the id (kNextPersonId), ?2.. as BindPerson binds
    // them. A single-row VALUES, not INSERT ... SELECT: SQLite gives a
    // statement that may write several rows a statement journal, a copy of
    // every page it changes (a fifth of a bulk registration's time). The
    // plaintext national IDs of rows from before migration 5 are checked
    // first, by kPlaintextNationalIdHeld.
    "INSERT INTO persons (id, version, national_id, given_name, family_name, "
    "sex, date_of_birth, date_of_death, province, district, commune, village, "
    "street, phone, office_code, name_key, district_key, facts, "
    "duplicate_override_reason, registered_at, updated_at, "
    "national_id_sealed, national_id_index, sealed) VALUES (?1, ?2, ?3, "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21, ?22, ?23, 1)",
    // kUpdatePerson
    "UPDATE persons SET version = ?2, national_id = ?3, given_name = ?4, "
    "family_name = ?5, sex = ?6, date_of_birth = ?7, date_of_death = ?8, "
    "province = ?9, district = ?10, commune = ?11, village = ?12, "
    "street = ?13, phone = ?14, office_code = ?15, name_key = ?16, "
    "district_key = ?17, facts = ?18, duplicate_override_reason = ?19, "
    "registered_at = ?20, updated_at = ?21, national_id_sealed = ?22, "
    "national_id_index = ?23, sealed = 1 WHERE id = ?1 AND NOT EXISTS"
    " (SELECT 1 FROM persons WHERE national_id = ?24 AND id <> ?1)",
    // kGetPerson
    "SELECT " SOCLE_PERSON_COLUMNS " FROM persons p WHERE p.id = ?1",
    // kGetPersonByNationalId
    // ?1 the blind index, ?2 the national ID itself, which only rows
    // written before migration 5 and not yet sealed hold (both columns are
    // UNIQUE-indexed).
    "SELECT " SOCLE_PERSON_COLUMNS " FROM persons p"
    " WHERE p.national_id_index = ?1 OR p.national_id = ?2",
    // kFindDuplicates
    "SELECT " SOCLE_PERSON_COLUMNS
    " FROM persons p WHERE p.name_key = ?1 AND p.date_of_birth = ?2"
    " AND p.district_key = ?3 AND p.date_of_death IS NULL ORDER BY p.id",
    // kFindByOffice
    "SELECT " SOCLE_PERSON_COLUMNS
    " FROM persons p WHERE p.office_code = ?1 AND p.id > ?2"
    " ORDER BY p.id LIMIT ?3",
    // kFindByHousehold
    "SELECT " SOCLE_PERSON_COLUMNS
    " FROM household_members m JOIN persons p ON p.id = m.person_id"
    " WHERE m.household_id = ?1 AND m.person_id > ?2"
    " ORDER BY m.person_id LIMIT ?3",
    // kInsertHousehold
    "INSERT INTO households (version, office_code, province, district, "
    "commune, village, street, head_person_id, created_at) VALUES (?2, ?3, "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    // kUpdateHousehold
    "UPDATE households SET version = ?2, office_code = ?3, province = ?4, "
    "district = ?5, commune = ?6, village = ?7, street = ?8, "
    "head_person_id = ?9, created_at = ?10 WHERE id = ?1",
    // kGetHousehold
    "SELECT " SOCLE_HOUSEHOLD_COLUMNS " FROM households WHERE id = ?1",
    // kInsertMember: seq is the household's next.
    "INSERT INTO household_members (" SOCLE_MEMBER_COLUMNS
    ") VALUES (?1, ?2, ?3, (SELECT coalesce(max(seq), 0) + 1"
    " FROM household_members WHERE household_id = ?1))",
    // kUpdateMember
    "UPDATE household_members SET relationship = ?3"
    " WHERE household_id = ?1 AND person_id = ?2",
    // kDeleteMember
    "DELETE FROM household_members WHERE household_id = ?1 AND person_id = ?2",
    // kGetMembership
    "SELECT " SOCLE_MEMBER_COLUMNS
    " FROM household_members WHERE person_id = ?1",
    // kListMembers
    "SELECT " SOCLE_MEMBER_COLUMNS
    " FROM household_members WHERE household_id = ?1 ORDER BY seq",
    // kInsertLifeEvent
    // ?1 the id (kNextEventId), details sealed.
    "INSERT INTO life_events (id, person_id, date, type, details, correction, "
    "recorded_at, recorded_by, office_code, sealed) VALUES (?1, ?2, ?3, ?4, "
    "?5, ?6, ?7, ?8, ?9, 1)",
    // kListLifeEvents: with no cursor, ('', 0) sorts before every event.
    "SELECT " SOCLE_EVENT_COLUMNS
    " FROM life_events WHERE person_id = ?1 AND (date, id) > (?2, ?3)"
    " ORDER BY date, id LIMIT ?4",
    // kPutRequest
    "INSERT INTO requests (" SOCLE_REQUEST_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, 1)",
    // kGetRequest
    "SELECT " SOCLE_REQUEST_COLUMNS " FROM requests WHERE request_id = ?1",
    // kAppendAudit
    "INSERT INTO audit (" SOCLE_AUDIT_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    // kLastAudit
    "SELECT " SOCLE_AUDIT_COLUMNS " FROM audit ORDER BY seq DESC LIMIT 1",
    // kListAudit
    "SELECT " SOCLE_AUDIT_COLUMNS
    " FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    // kListPersons
    "SELECT " SOCLE_PERSON_COLUMNS
    " FROM persons p WHERE p.id > ?1 ORDER BY p.id LIMIT ?2",
    // kListMemberships (the UNIQUE index on person_id gives the order)
    "SELECT " SOCLE_MEMBER_COLUMNS
    " FROM household_members WHERE person_id > ?1 ORDER BY person_id LIMIT ?2",
    // kInsertEnrolment: parameters ?2.. as BindEnrolment binds them.
    "INSERT INTO enrolments (person_id, programme_code, office_code, status, "
    "start_date, end_date, amount_minor, currency, policy_version, version, "
    "created_at, updated_at, details) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11, ?12, ?13, ?14)",
    // kUpdateEnrolment
    "UPDATE enrolments SET person_id = ?2, programme_code = ?3, "
    "office_code = ?4, status = ?5, start_date = ?6, end_date = ?7, "
    "amount_minor = ?8, currency = ?9, policy_version = ?10, version = ?11, "
    "created_at = ?12, updated_at = ?13, details = ?14 WHERE id = ?1",
    // kGetEnrolment
    "SELECT " SOCLE_ENROLMENT_COLUMNS " FROM enrolments WHERE id = ?1",
    // kListEnrolmentsByPerson (index enrolments_by_person, in id order)
    "SELECT " SOCLE_ENROLMENT_COLUMNS
    " FROM enrolments WHERE person_id = ?1 ORDER BY id",
    // The listings below share their parameters: ?1 programme, ?2 office,
    // ?3 status, ?4 after id, ?5 limit. One statement per combination of
    // filters, so that each can use its index (a bound "any" value would hide
    // the index from the planner). "+status" keeps the planner off the status
    // index where that index cannot give id order or is the less selective.
    // kListEnrolmentsByProgramme: any status.
    "SELECT " SOCLE_ENROLMENT_COLUMNS
    " FROM enrolments WHERE programme_code = ?1 AND office_code = ?2"
    " AND id > ?4 ORDER BY id LIMIT ?5",
    // kListEnrolmentsByProgrammeStatus: the programme index, status filtered.
    "SELECT " SOCLE_ENROLMENT_COLUMNS
    " FROM enrolments WHERE programme_code = ?1 AND office_code = ?2"
    " AND +status = ?3 AND id > ?4 ORDER BY id LIMIT ?5",
    // kListEnrolments: any status, every office.
    "SELECT " SOCLE_ENROLMENT_COLUMNS
    " FROM enrolments WHERE id > ?4 ORDER BY id LIMIT ?5",
    // kListEnrolmentsByOffice: any status.
    "SELECT " SOCLE_ENROLMENT_COLUMNS
    " FROM enrolments WHERE office_code = ?2 AND id > ?4 ORDER BY id LIMIT ?5",
    // kListEnrolmentsByStatus: every office. A scan in id order from the
    // cursor: (status, office_code, id) would need a sort of every enrolment
    // with that status for each page.
    "SELECT " SOCLE_ENROLMENT_COLUMNS
    " FROM enrolments WHERE +status = ?3 AND id > ?4 ORDER BY id LIMIT ?5",
    // kListEnrolmentsByStatusOffice
    "SELECT " SOCLE_ENROLMENT_COLUMNS
    " FROM enrolments WHERE status = ?3 AND office_code = ?2 AND id > ?4"
    " ORDER BY id LIMIT ?5",
    // kInsertPolicy: seq is the next rowid.
    "INSERT INTO policies (activated_at, activated_by, file_name, text)"
    " VALUES (?1, ?2, ?3, ?4)",
    // kGetActivePolicy
    "SELECT " SOCLE_POLICY_COLUMNS " FROM policies ORDER BY seq DESC LIMIT 1",
    // kInsertCycle
    "INSERT INTO cycles (programme_code, period, status, opened_at, "
    "opened_by, closed_at, closed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    // kInsertLines: the payroll, set-based: ?1 cycle, ?2 programme, ?3 the
    // period's first day, ?4 its last. Through the programme's index
    // ("+status": the status index would read every programme's active
    // enrolments), in enrolment order, so that the UNIQUE (cycle_id,
    // enrolment_id) index grows at its end.
    "INSERT INTO lines (cycle_id, enrolment_id, person_id, programme_code, "
    "office_code, amount_minor, currency) SELECT ?1, e.id, e.person_id, "
    "e.programme_code, e.office_code, e.amount_minor, e.currency "
    "FROM enrolments e WHERE e.programme_code = ?2 AND +e.status = 1 "
    "AND e.start_date <= ?4 AND (e.end_date IS NULL OR e.end_date >= ?3) "
    "AND e.amount_minor > 0 ORDER BY e.id",
    // kInsertCycleTotals
    "INSERT INTO cycle_totals (cycle_id, currency, lines, owed_minor) "
    "SELECT cycle_id, currency, count(*), sum(amount_minor) FROM lines "
    "WHERE cycle_id = ?1 GROUP BY currency",
    // kUpdateCycle
    "UPDATE cycles SET status = ?2, closed_at = ?3, closed_by = ?4 "
    "WHERE id = ?1",
    // kGetCycle
    "SELECT " SOCLE_CYCLE_COLUMNS " FROM cycles WHERE id = ?1",
    // kFindCycle
    "SELECT " SOCLE_CYCLE_COLUMNS
    " FROM cycles WHERE programme_code = ?1 AND period = ?2",
    // kListCycles: a small table; one statement for every filter.
    "SELECT " SOCLE_CYCLE_COLUMNS
    " FROM cycles WHERE id < ?4 AND (?1 = '' OR programme_code = ?1)"
    " AND (?2 = '' OR period = ?2) AND (?3 = 0 OR status = ?3)"
    " ORDER BY id DESC LIMIT ?5",
    // kGetCycleTotals
    "SELECT currency, lines, owed_minor FROM cycle_totals WHERE cycle_id = ?1"
    " ORDER BY currency",
    // kGetLine
    "SELECT " SOCLE_LINE_COLUMNS " FROM lines l WHERE l.id = ?1",
    // kGetLineByEnrolment
    "SELECT " SOCLE_LINE_COLUMNS
    " FROM lines l WHERE l.cycle_id = ?1 AND l.enrolment_id = ?2",
    // kListLines (the UNIQUE (cycle_id, enrolment_id) index gives the order)
    "SELECT " SOCLE_LINE_COLUMNS
    " FROM lines l WHERE l.cycle_id = ?1 AND l.enrolment_id > ?3"
    " ORDER BY l.enrolment_id LIMIT ?4",
    // kListLinesByOffice (index lines_by_cycle_office)
    "SELECT " SOCLE_LINE_COLUMNS
    " FROM lines l WHERE l.cycle_id = ?1 AND l.office_code = ?2"
    " AND l.enrolment_id > ?3 ORDER BY l.enrolment_id LIMIT ?4",
    // kInsertPayment
    "INSERT INTO payments (idempotency_key, cycle_id, line_id, person_id, "
    "programme_code, period, office_code, amount_minor, currency, channel, "
    "provider_reference, paid_at, supplement, note, recorded_at, "
    "recorded_by, reversal_of, reversal_reason) VALUES (?1, ?2, ?3, ?4, ?5, "
    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    // kGetPayment
    "SELECT " SOCLE_PAYMENT_COLUMNS " FROM payments p WHERE p.id = ?1",
    // kGetPaymentByKey
    "SELECT " SOCLE_PAYMENT_COLUMNS
    " FROM payments p WHERE p.idempotency_key = ?1",
    // kListPaymentsByLine
    "SELECT " SOCLE_PAYMENT_COLUMNS
    " FROM payments p WHERE p.line_id = ?1 ORDER BY p.id",
    // kReconcilePeriod: ?1 period, ?2 office ('' any), ?3 programme ('' any),
    // ?4 the period's first day. Line figures (lt) and payment figures (pt)
    // are aggregated separately, so that the balance between them is a
    // check and not a tautology.
    "WITH cyc AS (SELECT id FROM cycles WHERE period = ?1"
    "  AND (?3 = '' OR programme_code = ?3)),"
    " eff AS (SELECT p.line_id, count(*) AS n, sum(p.amount_minor) AS net"
    "  FROM payments p WHERE p.period = ?1 AND p.line_id IS NOT NULL"
    "  AND " SOCLE_EFFECTIVE("p") " GROUP BY p.line_id),"
    " lx AS (SELECT l.office_code, l.programme_code, l.currency,"
    "  l.amount_minor AS owed, coalesce(e.n, 0) AS n, coalesce(e.net, 0) AS net"
    "  FROM cyc JOIN lines l ON l.cycle_id = cyc.id"
    "  LEFT JOIN eff e ON e.line_id = l.id"
    "  WHERE ?2 = '' OR l.office_code = ?2),"
    " lt AS (SELECT office_code, programme_code, currency, count(*) AS lines,"
    "  sum(owed) AS owed, sum(max(owed - net, 0)) AS outstanding,"
    "  sum(max(net - owed, 0)) AS excess, sum(net = owed) AS in_full,"
    "  sum(net = 0) AS unpaid, sum(net > 0 AND net < owed) AS under,"
    "  sum(net > owed AND NOT (n >= 2 AND net >= 2 * owed)) AS over,"
    "  sum(n >= 2 AND net >= 2 * owed) AS twice"
    "  FROM lx GROUP BY office_code, programme_code, currency),"
    " px AS (SELECT p.office_code, p.programme_code, p.currency,"
    "  p.amount_minor AS amount, p.reversal_of IS NOT NULL AS is_reversal,"
    "  " SOCLE_EFFECTIVE("p") " AS effective,"
    "  p.line_id IS NULL AS no_line,"
    "  EXISTS (SELECT 1 FROM persons d WHERE d.id = p.person_id"
    "   AND d.date_of_death < ?4) AS dead"
    "  FROM payments p WHERE p.period = ?1"
    "  AND (?2 = '' OR p.office_code = ?2)"
    "  AND (?3 = '' OR p.programme_code = ?3)),"
    " pt AS (SELECT office_code, programme_code, currency,"
    "  sum(NOT is_reversal) AS payments,"
    "  sum(CASE WHEN is_reversal THEN 0 ELSE amount END) AS paid,"
    "  sum(CASE WHEN is_reversal THEN amount ELSE 0 END) AS reversed,"
    "  sum(CASE WHEN effective AND no_line THEN amount ELSE 0 END) AS excess,"
    "  sum(effective AND dead) AS after_death,"
    "  sum(effective AND NOT dead AND no_line) AS without_line"
    "  FROM px GROUP BY office_code, programme_code, currency),"
    " k AS (SELECT office_code, programme_code, currency FROM lt"
    "  UNION SELECT office_code, programme_code, currency FROM pt)"
    " SELECT k.office_code, k.programme_code, k.currency,"
    "  coalesce(lt.lines, 0), coalesce(lt.owed, 0), coalesce(pt.payments, 0),"
    "  coalesce(pt.paid, 0), coalesce(pt.reversed, 0),"
    "  coalesce(lt.outstanding, 0),"
    "  coalesce(lt.excess, 0) + coalesce(pt.excess, 0),"
    "  coalesce(lt.in_full, 0), coalesce(lt.unpaid, 0), coalesce(lt.under, 0),"
    "  coalesce(lt.over, 0), coalesce(lt.twice, 0),"
    "  coalesce(pt.after_death, 0), coalesce(pt.without_line, 0)"
    " FROM k LEFT JOIN lt USING (office_code, programme_code, currency)"
    " LEFT JOIN pt USING (office_code, programme_code, currency)"
    " ORDER BY k.office_code, k.programme_code, k.currency",
    // kListUnbalancedLinesOfCycle: ?1 cycle, ?2 office ('' any), ?3 after
    // enrolment id, ?4 limit. In the order of the UNIQUE (cycle_id,
    // enrolment_id) index, so that a page reads no further than it needs
    // (one query over the period's cycles would sort all their lines for
    // each page).
    "SELECT " SOCLE_LINE_COLUMNS
    " FROM lines l WHERE l.cycle_id = ?1 AND (?2 = '' OR l.office_code = ?2)"
    " AND l.enrolment_id > ?3 AND (SELECT coalesce(sum(q.amount_minor), 0)"
    " FROM payments q WHERE q.line_id = l.id AND " SOCLE_EFFECTIVE("q")
    ") <> l.amount_minor ORDER BY l.enrolment_id LIMIT ?4",
    // kListIrregularPayments: ?1 period, ?2 office, ?3 programme, ?4 first
    // day, ?5 after id, ?6 limit.
    "SELECT " SOCLE_PAYMENT_COLUMNS ", d.date_of_death"
    " FROM payments p JOIN persons d ON d.id = p.person_id"
    " WHERE p.period = ?1 AND (?2 = '' OR p.office_code = ?2)"
    " AND (?3 = '' OR p.programme_code = ?3) AND p.id > ?5"
    " AND " SOCLE_EFFECTIVE("p")
    " AND (p.line_id IS NULL OR d.date_of_death < ?4)"
    " ORDER BY p.id LIMIT ?6",
    // kListReferencedPayments: ?1 period, ?2 office, ?3 programme,
    // ?4 channel (0 any), ?5 after id, ?6 limit.
    "SELECT " SOCLE_PAYMENT_COLUMNS
    " FROM payments p WHERE p.period = ?1 AND (?2 = '' OR p.office_code = ?2)"
    " AND (?3 = '' OR p.programme_code = ?3) AND (?4 = 0 OR p.channel = ?4)"
    " AND p.id > ?5 AND p.provider_reference <> ''"
    " AND " SOCLE_EFFECTIVE("p") " ORDER BY p.id LIMIT ?6",
    // kListPeriodCycles: ?1 period, ?2 programme ('' any), ?3 lowest id.
    "SELECT id FROM cycles WHERE period = ?1"
    " AND (?2 = '' OR programme_code = ?2) AND id >= ?3 ORDER BY id",
    // kQueryAudit, kQueryAuditBySubject (index audit_by_subject),
    // kQueryAuditByOffice (index audit_by_office): ?1 after seq, ?2 subject,
    // ?3 actor prefix, ?4 office ('' any), ?5 since, ?6 until (micros),
    // ?7 limit.
    "SELECT " SOCLE_AUDIT_COLUMNS " FROM audit WHERE seq > ?1" SOCLE_AUDIT_FILTER,
    "SELECT " SOCLE_AUDIT_COLUMNS " FROM audit WHERE subject = ?2 AND seq > ?1"
    SOCLE_AUDIT_FILTER,
    "SELECT " SOCLE_AUDIT_COLUMNS " FROM audit WHERE office_code = ?4 AND seq > ?1"
    SOCLE_AUDIT_FILTER,
    // kNextPersonId: the id the row about to be inserted takes, known before
    // the insert so that its sealed values can be bound to it (the AAD).
    // The writer holds the write lock, so no other insert comes between;
    // max + 1 is also what SQLite itself would choose for this rowid table.
    "SELECT COALESCE(MAX(id), 0) + 1 FROM persons",
    // kListPersonsToReseal: ?1 after id, ?2 limit.
    "SELECT id, national_id, national_id_sealed, facts, sealed FROM persons"
    " WHERE id > ?1 ORDER BY id LIMIT ?2",
    // kResealPerson
    "UPDATE persons SET national_id = NULL, national_id_sealed = ?2,"
    " national_id_index = ?3, facts = ?4, sealed = 1 WHERE id = ?1",
    // kListRequestsToReseal: ?1 after request id, ?2 limit.
    "SELECT request_id, request, response, sealed FROM requests"
    " WHERE request_id > ?1 ORDER BY request_id LIMIT ?2",
    // kResealRequest
    "UPDATE requests SET request = ?2, response = ?3, sealed = 1"
    " WHERE request_id = ?1",
    // kNextEventId: as kNextPersonId.
    "SELECT COALESCE(MAX(id), 0) + 1 FROM life_events",
    // kListEventsToReseal: ?1 after id, ?2 limit.
    "SELECT id, details, sealed FROM life_events WHERE id > ?1"
    " ORDER BY id LIMIT ?2",
    // kResealEvent
    "UPDATE life_events SET details = ?2, sealed = 1 WHERE id = ?1",
    // kGetUser
    "SELECT " SOCLE_USER_COLUMNS " FROM users WHERE user_name = ?1",
    // kListUsers: every office, in the primary key's order.
    "SELECT " SOCLE_USER_COLUMNS
    " FROM users WHERE user_name > ?2 ORDER BY user_name LIMIT ?3",
    // kListUsersByOffice (index users_by_office)
    "SELECT " SOCLE_USER_COLUMNS
    " FROM users WHERE office_code = ?1 AND user_name > ?2"
    " ORDER BY user_name LIMIT ?3",
    // kInsertUser: parameters ?1..?9 as BindUser binds them.
    "INSERT INTO users (" SOCLE_USER_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    // kUpdateUser
    "UPDATE users SET display_name = ?2, role = ?3, office_code = ?4, "
    "disabled = ?5, password_hash = ?6, version = ?7, created_at = ?8, "
    "updated_at = ?9 WHERE user_name = ?1",
    // kPlaintextNationalIdHeld: a row from before migration 5 holds ?1 in
    // plaintext (the UNIQUE index on the blind index cannot see those).
    "SELECT 1 FROM persons WHERE national_id = ?1",
};
static_assert(std::size(kSqlText) == static_cast<size_t>(Sql::kCount),
              "one SQL text per Sql value, in order");

// Error contexts of the statements that can fail for a domain reason.
constexpr ErrorContext kInsertPersonCtx{
    "insert person", "national ID already registered", nullptr};
constexpr ErrorContext kUpdatePersonCtx{
    "update person", "national ID already registered", nullptr};
constexpr ErrorContext kReadPersonCtx{"read persons"};
constexpr ErrorContext kInsertHouseholdCtx{"insert household"};
constexpr ErrorContext kUpdateHouseholdCtx{"update household"};
constexpr ErrorContext kReadHouseholdCtx{"read household"};
constexpr ErrorContext kInsertMemberCtx{"insert member",
                                        "person already belongs to a household",
                                        "household or person does not exist"};
constexpr ErrorContext kUpdateMemberCtx{"update member"};
constexpr ErrorContext kDeleteMemberCtx{"delete member"};
constexpr ErrorContext kReadMemberCtx{"read members"};
constexpr ErrorContext kInsertEventCtx{"insert life event", nullptr,
                                       "person does not exist"};
constexpr ErrorContext kReadEventCtx{"read life events"};
constexpr ErrorContext kPutRequestCtx{"store request",
                                      "request id already stored"};
constexpr ErrorContext kReadRequestCtx{"read request"};
constexpr ErrorContext kAppendAuditCtx{"append audit entry",
                                       "audit sequence number already used"};
constexpr ErrorContext kReadAuditCtx{"read audit"};
constexpr ErrorContext kInsertEnrolmentCtx{
    "insert enrolment", "person already enrolled in this programme",
    "person does not exist"};
constexpr ErrorContext kUpdateEnrolmentCtx{
    "update enrolment", "person already enrolled in this programme",
    "person does not exist"};
constexpr ErrorContext kReadEnrolmentCtx{"read enrolments"};
constexpr ErrorContext kInsertPolicyCtx{"insert policy"};
constexpr ErrorContext kReadPolicyCtx{"read policy"};

// A civil date as stored: 'YYYY-MM-DD', years 1..9999, without allocating.
class DateText {
 public:
  explicit DateText(absl::CivilDay day) {
    const int64_t y = day.year();
    ok_ = y >= 1 && y <= 9999;
    if (!ok_) return;
    const int m = day.month(), d = day.day();
    buf_[0] = static_cast<char>('0' + y / 1000);
    buf_[1] = static_cast<char>('0' + y / 100 % 10);
    buf_[2] = static_cast<char>('0' + y / 10 % 10);
    buf_[3] = static_cast<char>('0' + y % 10);
    buf_[4] = '-';
    buf_[5] = static_cast<char>('0' + m / 10);
    buf_[6] = static_cast<char>('0' + m % 10);
    buf_[7] = '-';
    buf_[8] = static_cast<char>('0' + d / 10);
    buf_[9] = static_cast<char>('0' + d % 10);
  }
  bool ok() const { return ok_; }
  absl::string_view view() const { return absl::string_view(buf_, 10); }

 private:
  char buf_[10];
  bool ok_;
};

absl::Status DateOutOfRange(const char* field) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be in years 1 to 9999"));
}

absl::StatusOr<absl::CivilDay> StoredDate(absl::string_view text) {
  absl::StatusOr<absl::CivilDay> day = ParseDate(text, "stored date");
  if (!day.ok()) return absl::InternalError("corrupt date in the database");
  return *day;
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

void Assign(std::string* out, absl::string_view v) {
  out->assign(v.data(), v.size());
}

// Opens the sealed columns (rows written before migration 5 and not yet
// resealed hold plaintext: `sealed` = 0).
absl::Status ReadPerson(const Stmt& s, const KeyRing& keys, PersonRecord* p) {
  p->id = s.ColumnInt(0);
  p->version = s.ColumnInt(1);
  if (s.ColumnInt(22) != 0) {
    RETURN_IF_ERROR(OpenPerson(keys, s.ColumnBlob(21), s.ColumnBlob(17), p));
  } else {
    Assign(&p->national_id, s.ColumnText(2));  // NULL reads as ""
    Assign(&p->facts, s.ColumnBlob(17));
  }
  Assign(&p->given_name, s.ColumnText(3));
  Assign(&p->family_name, s.ColumnText(4));
  p->sex = static_cast<int>(s.ColumnInt(5));
  ASSIGN_OR_RETURN(p->date_of_birth, StoredDate(s.ColumnText(6)));
  if (s.ColumnIsNull(7)) {
    p->date_of_death.reset();
  } else {
    ASSIGN_OR_RETURN(p->date_of_death, StoredDate(s.ColumnText(7)));
  }
  Assign(&p->province, s.ColumnText(8));
  Assign(&p->district, s.ColumnText(9));
  Assign(&p->commune, s.ColumnText(10));
  Assign(&p->village, s.ColumnText(11));
  Assign(&p->street, s.ColumnText(12));
  Assign(&p->phone, s.ColumnText(13));
  Assign(&p->office_code, s.ColumnText(14));
  Assign(&p->name_key, s.ColumnText(15));
  Assign(&p->district_key, s.ColumnText(16));
  Assign(&p->duplicate_override_reason, s.ColumnText(18));
  p->registered_at = FromMicros(s.ColumnInt(19));
  p->updated_at = FromMicros(s.ColumnInt(20));
  return absl::OkStatus();
}

// Binds ?2..?23 of kInsertPerson / kUpdatePerson. The DateText buffers and
// `sealed` must outlive the Step. The plaintext national_id column is
// always NULL now: the ID is in national_id_sealed (?22), its blind index
// (?23) keeps it unique.
void BindPerson(Stmt& s, const PersonRecord& p, int64_t version,
                const DateText& birth, const DateText* death,
                const SealedPerson& sealed) {
  s.Int(2, version);
  s.Null(3);
  s.Text(4, p.given_name);
  s.Text(5, p.family_name);
  s.Int(6, p.sex);
  s.Text(7, birth.view());
  if (death != nullptr) {
    s.Text(8, death->view());
  } else {
    s.Null(8);
  }
  s.Text(9, p.province);
  s.Text(10, p.district);
  s.Text(11, p.commune);
  s.Text(12, p.village);
  s.Text(13, p.street);
  s.Text(14, p.phone);
  s.Text(15, p.office_code);
  s.Text(16, p.name_key);
  s.Text(17, p.district_key);
  s.Blob(18, sealed.facts);
  s.Text(19, p.duplicate_override_reason);
  s.Int(20, Micros(p.registered_at));
  s.Int(21, Micros(p.updated_at));
  if (sealed.national_id.empty()) {
    s.Null(22);
    s.Null(23);
  } else {
    s.Blob(22, sealed.national_id);
    s.Blob(23, sealed.national_id_index);
  }
}

void ReadHousehold(const Stmt& s, HouseholdRecord* h) {
  h->id = s.ColumnInt(0);
  h->version = s.ColumnInt(1);
  Assign(&h->office_code, s.ColumnText(2));
  Assign(&h->province, s.ColumnText(3));
  Assign(&h->district, s.ColumnText(4));
  Assign(&h->commune, s.ColumnText(5));
  Assign(&h->village, s.ColumnText(6));
  Assign(&h->street, s.ColumnText(7));
  h->head_person_id = s.ColumnInt(8);
  h->created_at = FromMicros(s.ColumnInt(9));
}

void BindHousehold(Stmt& s, const HouseholdRecord& h) {
  s.Int(2, h.version);
  s.Text(3, h.office_code);
  s.Text(4, h.province);
  s.Text(5, h.district);
  s.Text(6, h.commune);
  s.Text(7, h.village);
  s.Text(8, h.street);
  s.Int(9, h.head_person_id);
  s.Int(10, Micros(h.created_at));
}

MemberRecord ReadMember(const Stmt& s) {
  MemberRecord m;
  m.household_id = s.ColumnInt(0);
  m.person_id = s.ColumnInt(1);
  m.relationship = static_cast<int>(s.ColumnInt(2));
  m.seq = s.ColumnInt(3);
  return m;
}

absl::Status ReadEvent(const Stmt& s, const KeyRing& keys, LifeEventRecord* e) {
  e->id = s.ColumnInt(0);
  e->person_id = s.ColumnInt(1);
  ASSIGN_OR_RETURN(e->date, StoredDate(s.ColumnText(2)));
  e->type = static_cast<int>(s.ColumnInt(3));
  if (s.ColumnInt(9) != 0) {
    ASSIGN_OR_RETURN(e->details, OpenEventDetails(keys, e->id, s.ColumnBlob(4)));
  } else {  // written before migration 5, not yet resealed
    Assign(&e->details, s.ColumnBlob(4));
  }
  e->correction = s.ColumnInt(5) != 0;
  e->recorded_at = FromMicros(s.ColumnInt(6));
  Assign(&e->recorded_by, s.ColumnText(7));
  Assign(&e->office_code, s.ColumnText(8));
  return absl::OkStatus();
}

void ReadAudit(const Stmt& s, AuditRecord* a) {
  a->seq = s.ColumnInt(0);
  a->at = FromMicros(s.ColumnInt(1));
  Assign(&a->actor, s.ColumnText(2));
  Assign(&a->office_code, s.ColumnText(3));
  Assign(&a->action, s.ColumnText(4));
  Assign(&a->subject, s.ColumnText(5));
  Assign(&a->details, s.ColumnText(6));
  Assign(&a->prev_hash, s.ColumnText(7));
  Assign(&a->hash, s.ColumnText(8));
}

absl::Status ReadEnrolment(const Stmt& s, EnrolmentRecord* e) {
  e->id = s.ColumnInt(0);
  e->person_id = s.ColumnInt(1);
  Assign(&e->programme_code, s.ColumnText(2));
  Assign(&e->office_code, s.ColumnText(3));
  e->status = static_cast<int>(s.ColumnInt(4));
  ASSIGN_OR_RETURN(e->start_date, StoredDate(s.ColumnText(5)));
  if (s.ColumnIsNull(6)) {
    e->end_date.reset();
  } else {
    ASSIGN_OR_RETURN(e->end_date, StoredDate(s.ColumnText(6)));
  }
  e->amount_minor = s.ColumnInt(7);
  Assign(&e->currency, s.ColumnText(8));
  Assign(&e->policy_version, s.ColumnText(9));
  e->version = s.ColumnInt(10);
  e->created_at = FromMicros(s.ColumnInt(11));
  e->updated_at = FromMicros(s.ColumnInt(12));
  Assign(&e->details, s.ColumnBlob(13));
  return absl::OkStatus();
}

// Binds ?2..?14 of kInsertEnrolment / kUpdateEnrolment. The DateText buffers
// must outlive the Step.
void BindEnrolment(Stmt& s, const EnrolmentRecord& e, const DateText& start,
                   const DateText* end) {
  s.Int(2, e.person_id);
  s.Text(3, e.programme_code);
  s.Text(4, e.office_code);
  s.Int(5, e.status);
  s.Text(6, start.view());
  if (end != nullptr) {
    s.Text(7, end->view());
  } else {
    s.Null(7);
  }
  s.Int(8, e.amount_minor);
  s.Text(9, e.currency);
  s.Text(10, e.policy_version);
  s.Int(11, e.version);
  s.Int(12, Micros(e.created_at));
  s.Int(13, Micros(e.updated_at));
  s.Blob(14, e.details);
}

}  // namespace

const char* SqlText(Sql id) { return kSqlText[static_cast<int>(id)]; }

std::string NameSearchSql(size_t words) {
  // Persons born that day (index persons_by_birth, whose entries are in id
  // order), each word a whole word of the name key: name_key words are
  // separated by single spaces, so ' word ' must occur in ' name_key '.
  // instr() compares bytes exactly: no wildcard, no case folding.
  std::string sql = "SELECT " SOCLE_PERSON_COLUMNS
                    " FROM persons p WHERE p.date_of_birth = ?1 AND p.id > ?2";
  for (size_t i = 0; i < words; ++i) {
    absl::StrAppend(&sql, " AND instr(' ' || p.name_key || ' ', ?", i + 4,
                    ") > 0");
  }
  sql += " ORDER BY p.id LIMIT ?3";
  return sql;
}

absl::StatusOr<std::vector<PersonRecord>> SqliteTxn::ReadPersons(
    Stmt& stmt, const ErrorContext& context) {
  std::vector<PersonRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, context);
    RETURN_IF_ERROR(ReadPerson(stmt, *keys_, &out.emplace_back()));
  }
  return out;
}

absl::StatusOr<std::vector<EnrolmentRecord>> SqliteTxn::ReadEnrolments(
    Stmt& stmt) {
  std::vector<EnrolmentRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadEnrolmentCtx);
    RETURN_IF_ERROR(ReadEnrolment(stmt, &out.emplace_back()));
  }
  return out;
}

absl::Status SqliteTxn::ChangeOne(Stmt& stmt, const ErrorContext& context,
                                  const char* not_found) {
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, context);
  if (sqlite3_changes(conn_->db()) == 0) return absl::NotFoundError(not_found);
  return absl::OkStatus();
}

absl::StatusOr<PersonRecord> SqliteTxn::GetPerson(int64_t id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetPerson));
  Stmt stmt(s);
  stmt.Int(1, id);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("person not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadPersonCtx);
  PersonRecord p;
  RETURN_IF_ERROR(ReadPerson(stmt, *keys_, &p));
  return p;
}

absl::StatusOr<PersonRecord> SqliteTxn::GetPersonByNationalId(
    absl::string_view national_id) {
  if (national_id.empty()) return absl::NotFoundError("person not found");
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetPersonByNationalId));
  Stmt stmt(s);
  const std::string index = keys_->BlindIndex(national_id);
  stmt.Blob(1, index);
  stmt.Text(2, national_id);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("person not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadPersonCtx);
  PersonRecord p;
  RETURN_IF_ERROR(ReadPerson(stmt, *keys_, &p));
  return p;
}

absl::StatusOr<std::vector<PersonRecord>> SqliteTxn::FindPossibleDuplicates(
    absl::string_view name_key, absl::CivilDay date_of_birth,
    absl::string_view district_key) {
  DateText birth(date_of_birth);
  if (!birth.ok()) return std::vector<PersonRecord>();  // none stored
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kFindDuplicates));
  Stmt stmt(s);
  stmt.Text(1, name_key);
  stmt.Text(2, birth.view());
  stmt.Text(3, district_key);
  return ReadPersons(stmt, kReadPersonCtx);
}

absl::StatusOr<std::vector<PersonRecord>> SqliteTxn::FindPersonsByNameAndBirth(
    const std::vector<std::string>& words, absl::CivilDay date_of_birth,
    int64_t after_id, int limit) {
  DateText birth(date_of_birth);
  if (limit <= 0 || !birth.ok()) return std::vector<PersonRecord>();
  // An empty word constrains nothing (every name contains it).
  padded_words_.clear();
  for (const std::string& w : words) {
    if (w.empty()) continue;
    std::string& padded = padded_words_.emplace_back();
    padded.reserve(w.size() + 2);
    padded += ' ';
    padded += w;
    padded += ' ';
  }
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   conn_->GetNameSearch(padded_words_.size()));
  Stmt stmt(s);
  stmt.Text(1, birth.view());
  stmt.Int(2, after_id);
  stmt.Int(3, limit);
  for (size_t i = 0; i < padded_words_.size(); ++i) {
    stmt.Text(static_cast<int>(i) + 4, padded_words_[i]);
  }
  return ReadPersons(stmt, kReadPersonCtx);
}

absl::StatusOr<std::vector<PersonRecord>> SqliteTxn::FindPersonsByOffice(
    absl::string_view office_code, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<PersonRecord>();
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kFindByOffice));
  Stmt stmt(s);
  stmt.Text(1, office_code);
  stmt.Int(2, after_id);
  stmt.Int(3, limit);
  return ReadPersons(stmt, kReadPersonCtx);
}

absl::StatusOr<std::vector<PersonRecord>> SqliteTxn::FindPersonsByHousehold(
    int64_t household_id, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<PersonRecord>();
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kFindByHousehold));
  Stmt stmt(s);
  stmt.Int(1, household_id);
  stmt.Int(2, after_id);
  stmt.Int(3, limit);
  return ReadPersons(stmt, kReadPersonCtx);
}

absl::StatusOr<HouseholdRecord> SqliteTxn::GetHousehold(int64_t id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetHousehold));
  Stmt stmt(s);
  stmt.Int(1, id);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("household not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadHouseholdCtx);
  HouseholdRecord h;
  ReadHousehold(stmt, &h);
  return h;
}

absl::StatusOr<std::vector<MemberRecord>> SqliteTxn::ListMembers(
    int64_t household_id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListMembers));
  Stmt stmt(s);
  stmt.Int(1, household_id);
  std::vector<MemberRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadMemberCtx);
    out.push_back(ReadMember(stmt));
  }
  return out;
}

absl::StatusOr<MemberRecord> SqliteTxn::GetMembership(int64_t person_id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetMembership));
  Stmt stmt(s);
  stmt.Int(1, person_id);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError("person belongs to no household");
  }
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadMemberCtx);
  return ReadMember(stmt);
}

absl::StatusOr<std::vector<LifeEventRecord>> SqliteTxn::ListLifeEvents(
    int64_t person_id, std::optional<EventCursor> after, int limit) {
  if (limit <= 0) return std::vector<LifeEventRecord>();
  std::optional<DateText> after_date;
  if (after.has_value()) {
    after_date.emplace(after->date);
    if (!after_date->ok()) {
      // Every stored date is in years 1..9999.
      if (after->date.year() > 9999) return std::vector<LifeEventRecord>();
      after.reset();
      after_date.reset();
    }
  }
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListLifeEvents));
  Stmt stmt(s);
  stmt.Int(1, person_id);
  if (after.has_value()) {
    stmt.Text(2, after_date->view());
    stmt.Int(3, after->id);
  } else {
    stmt.Text(2, "");
    stmt.Int(3, 0);
  }
  stmt.Int(4, limit);
  std::vector<LifeEventRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadEventCtx);
    RETURN_IF_ERROR(ReadEvent(stmt, *keys_, &out.emplace_back()));
  }
  return out;
}

absl::StatusOr<std::vector<PersonRecord>> SqliteTxn::ListPersons(
    int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<PersonRecord>();
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListPersons));
  Stmt stmt(s);
  stmt.Int(1, after_id);
  stmt.Int(2, limit);
  return ReadPersons(stmt, kReadPersonCtx);
}

absl::StatusOr<std::vector<MemberRecord>> SqliteTxn::ListMemberships(
    int64_t after_person_id, int limit) {
  if (limit <= 0) return std::vector<MemberRecord>();
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListMemberships));
  Stmt stmt(s);
  stmt.Int(1, after_person_id);
  stmt.Int(2, limit);
  std::vector<MemberRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadMemberCtx);
    out.push_back(ReadMember(stmt));
  }
  return out;
}

absl::StatusOr<EnrolmentRecord> SqliteTxn::GetEnrolment(int64_t id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetEnrolment));
  Stmt stmt(s);
  stmt.Int(1, id);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("enrolment not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadEnrolmentCtx);
  EnrolmentRecord e;
  RETURN_IF_ERROR(ReadEnrolment(stmt, &e));
  return e;
}

absl::StatusOr<std::vector<EnrolmentRecord>> SqliteTxn::ListEnrolmentsByPerson(
    int64_t person_id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListEnrolmentsByPerson));
  Stmt stmt(s);
  stmt.Int(1, person_id);
  return ReadEnrolments(stmt);
}

absl::StatusOr<std::vector<EnrolmentRecord>>
SqliteTxn::ListEnrolmentsByProgramme(absl::string_view programme_code,
                                     absl::string_view office_code, int status,
                                     int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<EnrolmentRecord>();
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   conn_->Get(status == 0
                                  ? Sql::kListEnrolmentsByProgramme
                                  : Sql::kListEnrolmentsByProgrammeStatus));
  Stmt stmt(s);
  stmt.Text(1, programme_code);
  stmt.Text(2, office_code);
  if (status != 0) stmt.Int(3, status);
  stmt.Int(4, after_id);
  stmt.Int(5, limit);
  return ReadEnrolments(stmt);
}

absl::StatusOr<std::vector<EnrolmentRecord>> SqliteTxn::ListEnrolmentsByStatus(
    int status, absl::string_view office_code, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<EnrolmentRecord>();
  const bool any_office = office_code.empty();
  Sql id = status == 0 ? (any_office ? Sql::kListEnrolments
                                     : Sql::kListEnrolmentsByOffice)
                       : (any_office ? Sql::kListEnrolmentsByStatus
                                     : Sql::kListEnrolmentsByStatusOffice);
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(id));
  Stmt stmt(s);
  if (!any_office) stmt.Text(2, office_code);
  if (status != 0) stmt.Int(3, status);
  stmt.Int(4, after_id);
  stmt.Int(5, limit);
  return ReadEnrolments(stmt);
}

absl::StatusOr<PolicyRecord> SqliteTxn::GetActivePolicy() {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetActivePolicy));
  Stmt stmt(s);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("no policy activated");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadPolicyCtx);
  PolicyRecord p;
  p.seq = stmt.ColumnInt(0);
  p.activated_at = FromMicros(stmt.ColumnInt(1));
  Assign(&p.activated_by, stmt.ColumnText(2));
  Assign(&p.file_name, stmt.ColumnText(3));
  Assign(&p.text, stmt.ColumnText(4));
  return p;
}

absl::StatusOr<RequestRecord> SqliteTxn::GetRequest(
    absl::string_view request_id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetRequest));
  Stmt stmt(s);
  stmt.Text(1, request_id);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("request id not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadRequestCtx);
  RequestRecord r;
  Assign(&r.request_id, stmt.ColumnText(0));
  Assign(&r.method, stmt.ColumnText(1));
  if (stmt.ColumnInt(5) != 0) {
    RETURN_IF_ERROR(OpenRequest(*keys_, stmt.ColumnBlob(2), stmt.ColumnBlob(3), &r));
  } else {  // written before migration 5, not yet resealed
    Assign(&r.request, stmt.ColumnBlob(2));
    Assign(&r.response, stmt.ColumnBlob(3));
  }
  r.created_at = FromMicros(stmt.ColumnInt(4));
  return r;
}

absl::StatusOr<AuditRecord> SqliteTxn::LastAudit() {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kLastAudit));
  Stmt stmt(s);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("audit trail is empty");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadAuditCtx);
  AuditRecord a;
  ReadAudit(stmt, &a);
  return a;
}

absl::StatusOr<std::vector<AuditRecord>> SqliteTxn::ListAudit(int64_t after_seq,
                                                              int limit) {
  if (limit <= 0) return std::vector<AuditRecord>();
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListAudit));
  Stmt stmt(s);
  stmt.Int(1, after_seq);
  stmt.Int(2, limit);
  std::vector<AuditRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadAuditCtx);
    ReadAudit(stmt, &out.emplace_back());
  }
  return out;
}

absl::StatusOr<std::vector<AuditRecord>> SqliteTxn::QueryAudit(
    const AuditFilter& filter, int64_t after_seq, int limit) {
  if (limit <= 0) return std::vector<AuditRecord>();
  const Sql id = !filter.subject.empty()       ? Sql::kQueryAuditBySubject
                 : !filter.office_code.empty() ? Sql::kQueryAuditByOffice
                                               : Sql::kQueryAudit;
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(id));
  Stmt stmt(s);
  stmt.Int(1, after_seq);
  stmt.Text(2, filter.subject);
  stmt.Text(3, filter.actor_prefix);
  stmt.Text(4, filter.office_code);
  stmt.Int(5, filter.since ? absl::ToUnixMicros(*filter.since)
                           : std::numeric_limits<int64_t>::min());
  stmt.Int(6, filter.until ? absl::ToUnixMicros(*filter.until)
                           : std::numeric_limits<int64_t>::max());
  stmt.Int(7, limit);
  std::vector<AuditRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadAuditCtx);
    ReadAudit(stmt, &out.emplace_back());
  }
  return out;
}

absl::StatusOr<int64_t> SqliteTxn::InsertPerson(const PersonRecord& person) {
  DateText birth(person.date_of_birth);
  if (!birth.ok()) return DateOutOfRange("date_of_birth");
  std::optional<DateText> death;
  if (person.date_of_death.has_value()) {
    death.emplace(*person.date_of_death);
    if (!death->ok()) return DateOutOfRange("date_of_death");
  }
  int64_t id = 0;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kNextPersonId));
    Stmt stmt(s);
    int rc = stmt.Step();
    if (rc != SQLITE_ROW) return conn_->Error(rc, kInsertPersonCtx);
    id = stmt.ColumnInt(0);
  }
  if (!person.national_id.empty()) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kPlaintextNationalIdHeld));
    Stmt held(s);
    held.Text(1, person.national_id);
    const int rc = held.Step();
    if (rc == SQLITE_ROW) return absl::AlreadyExistsError(kInsertPersonCtx.unique);
    if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertPersonCtx);
  }
  const SealedPerson sealed =
      SealPerson(*keys_, id, person.national_id, person.facts);
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertPerson));
  Stmt stmt(s);
  stmt.Int(1, id);
  // The version of a new person is 1 (records.h).
  BindPerson(stmt, person, /*version=*/1, birth, death ? &*death : nullptr,
             sealed);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertPersonCtx);
  return id;
}

absl::Status SqliteTxn::UpdatePerson(const PersonRecord& person) {
  DateText birth(person.date_of_birth);
  if (!birth.ok()) return DateOutOfRange("date_of_birth");
  std::optional<DateText> death;
  if (person.date_of_death.has_value()) {
    death.emplace(*person.date_of_death);
    if (!death->ok()) return DateOutOfRange("date_of_death");
  }
  const SealedPerson sealed =
      SealPerson(*keys_, person.id, person.national_id, person.facts);
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kUpdatePerson));
  Stmt stmt(s);
  stmt.Int(1, person.id);
  BindPerson(stmt, person, person.version, birth, death ? &*death : nullptr,
             sealed);
  stmt.TextOrNull(24, person.national_id);
  absl::Status changed = ChangeOne(stmt, kUpdatePersonCtx, "person not found");
  // Nothing changed: no such person, or an old row holds the ID in plaintext.
  if (absl::IsNotFound(changed) && GetPerson(person.id).ok()) {
    return absl::AlreadyExistsError(kUpdatePersonCtx.unique);
  }
  return changed;
}

absl::StatusOr<int64_t> SqliteTxn::InsertHousehold(
    const HouseholdRecord& household) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertHousehold));
  Stmt stmt(s);
  BindHousehold(stmt, household);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertHouseholdCtx);
  return sqlite3_last_insert_rowid(conn_->db());
}

absl::Status SqliteTxn::UpdateHousehold(const HouseholdRecord& household) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kUpdateHousehold));
  Stmt stmt(s);
  stmt.Int(1, household.id);
  BindHousehold(stmt, household);
  return ChangeOne(stmt, kUpdateHouseholdCtx, "household not found");
}

absl::Status SqliteTxn::InsertMember(const MemberRecord& member) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertMember));
  Stmt stmt(s);
  stmt.Int(1, member.household_id);
  stmt.Int(2, member.person_id);
  stmt.Int(3, member.relationship);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertMemberCtx);
  return absl::OkStatus();
}

absl::Status SqliteTxn::UpdateMember(const MemberRecord& member) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kUpdateMember));
  Stmt stmt(s);
  stmt.Int(1, member.household_id);
  stmt.Int(2, member.person_id);
  stmt.Int(3, member.relationship);
  return ChangeOne(stmt, kUpdateMemberCtx,
                   "person is not a member of that household");
}

absl::Status SqliteTxn::DeleteMember(int64_t household_id, int64_t person_id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kDeleteMember));
  Stmt stmt(s);
  stmt.Int(1, household_id);
  stmt.Int(2, person_id);
  return ChangeOne(stmt, kDeleteMemberCtx,
                   "person is not a member of that household");
}

absl::StatusOr<int64_t> SqliteTxn::InsertLifeEvent(
    const LifeEventRecord& event) {
  DateText date(event.date);
  if (!date.ok()) return DateOutOfRange("date");
  int64_t id = 0;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kNextEventId));
    Stmt stmt(s);
    int rc = stmt.Step();
    if (rc != SQLITE_ROW) return conn_->Error(rc, kInsertEventCtx);
    id = stmt.ColumnInt(0);
  }
  const std::string details = SealEventDetails(*keys_, id, event.details);
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertLifeEvent));
  Stmt stmt(s);
  stmt.Int(1, id);
  stmt.Int(2, event.person_id);
  stmt.Text(3, date.view());
  stmt.Int(4, event.type);
  stmt.Blob(5, details);
  stmt.Int(6, event.correction ? 1 : 0);
  stmt.Int(7, Micros(event.recorded_at));
  stmt.Text(8, event.recorded_by);
  stmt.Text(9, event.office_code);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertEventCtx);
  return id;
}

absl::StatusOr<int64_t> SqliteTxn::InsertEnrolment(
    const EnrolmentRecord& enrolment) {
  DateText start(enrolment.start_date);
  if (!start.ok()) return DateOutOfRange("start_date");
  std::optional<DateText> end;
  if (enrolment.end_date.has_value()) {
    end.emplace(*enrolment.end_date);
    if (!end->ok()) return DateOutOfRange("end_date");
  }
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertEnrolment));
  Stmt stmt(s);
  BindEnrolment(stmt, enrolment, start, end ? &*end : nullptr);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertEnrolmentCtx);
  return sqlite3_last_insert_rowid(conn_->db());
}

absl::Status SqliteTxn::UpdateEnrolment(const EnrolmentRecord& enrolment) {
  DateText start(enrolment.start_date);
  if (!start.ok()) return DateOutOfRange("start_date");
  std::optional<DateText> end;
  if (enrolment.end_date.has_value()) {
    end.emplace(*enrolment.end_date);
    if (!end->ok()) return DateOutOfRange("end_date");
  }
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kUpdateEnrolment));
  Stmt stmt(s);
  stmt.Int(1, enrolment.id);
  BindEnrolment(stmt, enrolment, start, end ? &*end : nullptr);
  return ChangeOne(stmt, kUpdateEnrolmentCtx, "enrolment not found");
}

absl::StatusOr<int64_t> SqliteTxn::InsertPolicy(const PolicyRecord& policy) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertPolicy));
  Stmt stmt(s);
  stmt.Int(1, Micros(policy.activated_at));
  stmt.Text(2, policy.activated_by);
  stmt.Text(3, policy.file_name);
  stmt.Text(4, policy.text);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertPolicyCtx);
  return sqlite3_last_insert_rowid(conn_->db());
}

absl::Status SqliteTxn::PutRequest(const RequestRecord& request) {
  const SealedRequest sealed = SealRequest(*keys_, request);
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kPutRequest));
  Stmt stmt(s);
  stmt.Text(1, request.request_id);
  stmt.Text(2, request.method);
  stmt.Blob(3, sealed.request);
  stmt.Blob(4, sealed.response);
  stmt.Int(5, Micros(request.created_at));
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kPutRequestCtx);
  return absl::OkStatus();
}

absl::Status SqliteTxn::AppendAudit(const AuditRecord& entry) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kAppendAudit));
  Stmt stmt(s);
  stmt.Int(1, entry.seq);
  stmt.Int(2, Micros(entry.at));
  stmt.Text(3, entry.actor);
  stmt.Text(4, entry.office_code);
  stmt.Text(5, entry.action);
  stmt.Text(6, entry.subject);
  stmt.Text(7, entry.details);
  stmt.Text(8, entry.prev_hash);
  stmt.Text(9, entry.hash);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kAppendAuditCtx);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Payments: cycles, lines, payments, reconciliation.

namespace {

constexpr ErrorContext kInsertCycleCtx{
    "open cycle", "the programme already has a cycle for this period"};
constexpr ErrorContext kInsertLinesCtx{"compute cycle lines"};
constexpr ErrorContext kUpdateCycleCtx{"update cycle"};
constexpr ErrorContext kReadCycleCtx{"read cycles"};
constexpr ErrorContext kReadLineCtx{"read lines"};
constexpr ErrorContext kInsertPaymentCtx{
    "record payment",
    "idempotency key already used, or payment already reversed",
    "cycle, line, person or reversed payment does not exist"};
constexpr ErrorContext kReadPaymentCtx{"read payments"};
constexpr ErrorContext kReconcileCtx{"reconcile period"};

void ReadCycle(const Stmt& s, CycleRecord* c) {
  c->id = s.ColumnInt(0);
  Assign(&c->programme_code, s.ColumnText(1));
  Assign(&c->period, s.ColumnText(2));
  c->status = static_cast<int>(s.ColumnInt(3));
  c->opened_at = FromMicros(s.ColumnInt(4));
  Assign(&c->opened_by, s.ColumnText(5));
  if (s.ColumnIsNull(6)) {
    c->closed_at.reset();
  } else {
    c->closed_at = FromMicros(s.ColumnInt(6));
  }
  Assign(&c->closed_by, s.ColumnText(7));
  c->totals.clear();
}

void ReadLine(const Stmt& s, LineRecord* l) {
  l->id = s.ColumnInt(0);
  l->cycle_id = s.ColumnInt(1);
  l->enrolment_id = s.ColumnInt(2);
  l->person_id = s.ColumnInt(3);
  Assign(&l->programme_code, s.ColumnText(4));
  Assign(&l->office_code, s.ColumnText(5));
  l->amount_minor = s.ColumnInt(6);
  Assign(&l->currency, s.ColumnText(7));
  l->payment_count = s.ColumnInt(8);
  l->paid_minor = s.ColumnInt(9);
}

// NULL integer columns (line_id, reversal_of, reversed_by) read as 0.
void ReadPayment(const Stmt& s, PaymentRecord* p) {
  p->id = s.ColumnInt(0);
  Assign(&p->idempotency_key, s.ColumnText(1));
  p->cycle_id = s.ColumnInt(2);
  p->line_id = s.ColumnInt(3);
  p->person_id = s.ColumnInt(4);
  Assign(&p->programme_code, s.ColumnText(5));
  Assign(&p->period, s.ColumnText(6));
  Assign(&p->office_code, s.ColumnText(7));
  p->amount_minor = s.ColumnInt(8);
  Assign(&p->currency, s.ColumnText(9));
  p->channel = static_cast<int>(s.ColumnInt(10));
  Assign(&p->provider_reference, s.ColumnText(11));
  p->paid_at = FromMicros(s.ColumnInt(12));
  p->supplement = s.ColumnInt(13) != 0;
  Assign(&p->note, s.ColumnText(14));
  p->recorded_at = FromMicros(s.ColumnInt(15));
  Assign(&p->recorded_by, s.ColumnText(16));
  p->reversal_of = s.ColumnInt(17);
  Assign(&p->reversal_reason, s.ColumnText(18));
  p->reversed_by = s.ColumnInt(19);
}
constexpr int kPaymentColumnCount = 20;

// Binds ?1..?3 of the period statements.
void BindPeriod(Stmt& s, const PeriodFilter& f) {
  s.Text(1, f.period);
  s.Text(2, f.office_code);
  s.Text(3, f.programme_code);
}

}  // namespace

absl::StatusOr<std::vector<CycleRecord>> SqliteTxn::ReadCycles(Stmt& stmt) {
  std::vector<CycleRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadCycleCtx);
    ReadCycle(stmt, &out.emplace_back());
  }
  return out;
}

absl::Status SqliteTxn::ReadCycleTotals(CycleRecord& cycle) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetCycleTotals));
  Stmt stmt(s);
  stmt.Int(1, cycle.id);
  cycle.totals.clear();
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadCycleCtx);
    CycleTotal& t = cycle.totals.emplace_back();
    Assign(&t.currency, stmt.ColumnText(0));
    t.lines = stmt.ColumnInt(1);
    t.owed_minor = stmt.ColumnInt(2);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LineRecord>> SqliteTxn::ReadLines(Stmt& stmt) {
  std::vector<LineRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadLineCtx);
    ReadLine(stmt, &out.emplace_back());
  }
  return out;
}

absl::StatusOr<std::vector<PaymentRecord>> SqliteTxn::ReadPayments(
    Stmt& stmt) {
  std::vector<PaymentRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadPaymentCtx);
    ReadPayment(stmt, &out.emplace_back());
  }
  return out;
}

absl::StatusOr<CycleRecord> SqliteTxn::GetCycle(int64_t id) {
  CycleRecord c;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetCycle));
    Stmt stmt(s);
    stmt.Int(1, id);
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) return absl::NotFoundError("cycle not found");
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadCycleCtx);
    ReadCycle(stmt, &c);
  }
  RETURN_IF_ERROR(ReadCycleTotals(c));
  return c;
}

absl::StatusOr<CycleRecord> SqliteTxn::FindCycle(
    absl::string_view programme_code, absl::string_view period) {
  CycleRecord c;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kFindCycle));
    Stmt stmt(s);
    stmt.Text(1, programme_code);
    stmt.Text(2, period);
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) return absl::NotFoundError("cycle not found");
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadCycleCtx);
    ReadCycle(stmt, &c);
  }
  RETURN_IF_ERROR(ReadCycleTotals(c));
  return c;
}

absl::StatusOr<std::vector<CycleRecord>> SqliteTxn::ListCycles(
    absl::string_view programme_code, absl::string_view period, int status,
    int64_t before_id, int limit) {
  if (limit <= 0) return std::vector<CycleRecord>();
  std::vector<CycleRecord> out;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListCycles));
    Stmt stmt(s);
    stmt.Text(1, programme_code);
    stmt.Text(2, period);
    stmt.Int(3, status);
    stmt.Int(4, before_id > 0 ? before_id
                              : std::numeric_limits<int64_t>::max());
    stmt.Int(5, limit);
    ASSIGN_OR_RETURN(out, ReadCycles(stmt));
  }
  for (CycleRecord& c : out) RETURN_IF_ERROR(ReadCycleTotals(c));
  return out;
}

absl::StatusOr<LineRecord> SqliteTxn::GetLine(int64_t id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetLine));
  Stmt stmt(s);
  stmt.Int(1, id);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("line not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadLineCtx);
  LineRecord l;
  ReadLine(stmt, &l);
  return l;
}

absl::StatusOr<LineRecord> SqliteTxn::GetLineByEnrolment(int64_t cycle_id,
                                                         int64_t enrolment_id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetLineByEnrolment));
  Stmt stmt(s);
  stmt.Int(1, cycle_id);
  stmt.Int(2, enrolment_id);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("line not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadLineCtx);
  LineRecord l;
  ReadLine(stmt, &l);
  return l;
}

absl::StatusOr<std::vector<LineRecord>> SqliteTxn::ListLines(
    int64_t cycle_id, absl::string_view office_code,
    int64_t after_enrolment_id, int limit) {
  if (limit <= 0) return std::vector<LineRecord>();
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   conn_->Get(office_code.empty() ? Sql::kListLines
                                                  : Sql::kListLinesByOffice));
  Stmt stmt(s);
  stmt.Int(1, cycle_id);
  if (!office_code.empty()) stmt.Text(2, office_code);
  stmt.Int(3, after_enrolment_id);
  stmt.Int(4, limit);
  return ReadLines(stmt);
}

absl::StatusOr<PaymentRecord> SqliteTxn::GetPayment(int64_t id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetPayment));
  Stmt stmt(s);
  stmt.Int(1, id);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("payment not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadPaymentCtx);
  PaymentRecord p;
  ReadPayment(stmt, &p);
  return p;
}

absl::StatusOr<PaymentRecord> SqliteTxn::GetPaymentByKey(
    absl::string_view idempotency_key) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetPaymentByKey));
  Stmt stmt(s);
  stmt.Text(1, idempotency_key);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("payment not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadPaymentCtx);
  PaymentRecord p;
  ReadPayment(stmt, &p);
  return p;
}

absl::StatusOr<std::vector<PaymentRecord>> SqliteTxn::ListPaymentsByLine(
    int64_t line_id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListPaymentsByLine));
  Stmt stmt(s);
  stmt.Int(1, line_id);
  return ReadPayments(stmt);
}

absl::StatusOr<std::vector<ReconciliationTotals>> SqliteTxn::ReconcilePeriod(
    const PeriodFilter& filter) {
  DateText first(filter.first_day);
  if (!first.ok()) return DateOutOfRange("first_day");
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kReconcilePeriod));
  Stmt stmt(s);
  BindPeriod(stmt, filter);
  stmt.Text(4, first.view());
  std::vector<ReconciliationTotals> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReconcileCtx);
    ReconciliationTotals& t = out.emplace_back();
    Assign(&t.office_code, stmt.ColumnText(0));
    Assign(&t.programme_code, stmt.ColumnText(1));
    Assign(&t.currency, stmt.ColumnText(2));
    t.lines = stmt.ColumnInt(3);
    t.owed_minor = stmt.ColumnInt(4);
    t.payments = stmt.ColumnInt(5);
    t.paid_minor = stmt.ColumnInt(6);
    t.reversed_minor = stmt.ColumnInt(7);
    t.outstanding_minor = stmt.ColumnInt(8);
    t.excess_minor = stmt.ColumnInt(9);
    t.paid_in_full = stmt.ColumnInt(10);
    t.unpaid = stmt.ColumnInt(11);
    t.underpaid = stmt.ColumnInt(12);
    t.overpaid = stmt.ColumnInt(13);
    t.paid_twice = stmt.ColumnInt(14);
    t.paid_after_death = stmt.ColumnInt(15);
    t.paid_without_entitlement = stmt.ColumnInt(16);
  }
  return out;
}

absl::StatusOr<std::vector<LineRecord>> SqliteTxn::ListUnbalancedLines(
    const PeriodFilter& filter, std::optional<LineCursor> after, int limit) {
  std::vector<LineRecord> out;
  if (limit <= 0) return out;
  // A period has few cycles (one per programme): list them, then read each
  // cycle's lines in index order until the page is full.
  std::vector<int64_t> cycles;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListPeriodCycles));
    Stmt stmt(s);
    stmt.Text(1, filter.period);
    stmt.Text(2, filter.programme_code);
    stmt.Int(3, after ? after->cycle_id : 0);
    for (;;) {
      int rc = stmt.Step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return conn_->Error(rc, kReadCycleCtx);
      cycles.push_back(stmt.ColumnInt(0));
    }
  }
  for (int64_t cycle : cycles) {
    const int wanted = limit - static_cast<int>(out.size());
    if (wanted <= 0) break;
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListUnbalancedLinesOfCycle));
    Stmt stmt(s);
    stmt.Int(1, cycle);
    stmt.Text(2, filter.office_code);
    stmt.Int(3, after && after->cycle_id == cycle ? after->enrolment_id : 0);
    stmt.Int(4, wanted);
    ASSIGN_OR_RETURN(std::vector<LineRecord> page, ReadLines(stmt));
    for (LineRecord& l : page) out.push_back(std::move(l));
  }
  return out;
}

absl::StatusOr<std::vector<EffectivePayment>> SqliteTxn::ListIrregularPayments(
    const PeriodFilter& filter, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<EffectivePayment>();
  DateText first(filter.first_day);
  if (!first.ok()) return DateOutOfRange("first_day");
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListIrregularPayments));
  Stmt stmt(s);
  BindPeriod(stmt, filter);
  stmt.Text(4, first.view());
  stmt.Int(5, after_id);
  stmt.Int(6, limit);
  std::vector<EffectivePayment> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadPaymentCtx);
    EffectivePayment& e = out.emplace_back();
    ReadPayment(stmt, &e.payment);
    if (!stmt.ColumnIsNull(kPaymentColumnCount)) {
      ASSIGN_OR_RETURN(e.date_of_death,
                       StoredDate(stmt.ColumnText(kPaymentColumnCount)));
    }
  }
  return out;
}

absl::StatusOr<std::vector<PaymentRecord>> SqliteTxn::ListReferencedPayments(
    const PeriodFilter& filter, int channel, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<PaymentRecord>();
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListReferencedPayments));
  Stmt stmt(s);
  BindPeriod(stmt, filter);
  stmt.Int(4, channel);
  stmt.Int(5, after_id);
  stmt.Int(6, limit);
  return ReadPayments(stmt);
}

absl::StatusOr<CycleRecord> SqliteTxn::InsertCycle(const CycleRecord& cycle,
                                                   absl::CivilDay first_day,
                                                   absl::CivilDay last_day) {
  DateText first(first_day), last(last_day);
  if (!first.ok()) return DateOutOfRange("first_day");
  if (!last.ok()) return DateOutOfRange("last_day");
  CycleRecord out = cycle;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertCycle));
    Stmt stmt(s);
    stmt.Text(1, cycle.programme_code);
    stmt.Text(2, cycle.period);
    stmt.Int(3, cycle.status);
    stmt.Int(4, Micros(cycle.opened_at));
    stmt.Text(5, cycle.opened_by);
    if (cycle.closed_at) {
      stmt.Int(6, Micros(*cycle.closed_at));
    } else {
      stmt.Null(6);
    }
    stmt.Text(7, cycle.closed_by);
    int rc = stmt.Step();
    if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertCycleCtx);
    out.id = sqlite3_last_insert_rowid(conn_->db());
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertLines));
    Stmt stmt(s);
    stmt.Int(1, out.id);
    stmt.Text(2, cycle.programme_code);
    stmt.Text(3, first.view());
    stmt.Text(4, last.view());
    int rc = stmt.Step();
    if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertLinesCtx);
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertCycleTotals));
    Stmt stmt(s);
    stmt.Int(1, out.id);
    int rc = stmt.Step();
    if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertLinesCtx);
  }
  RETURN_IF_ERROR(ReadCycleTotals(out));
  return out;
}

absl::Status SqliteTxn::UpdateCycle(const CycleRecord& cycle) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kUpdateCycle));
  Stmt stmt(s);
  stmt.Int(1, cycle.id);
  stmt.Int(2, cycle.status);
  if (cycle.closed_at) {
    stmt.Int(3, Micros(*cycle.closed_at));
  } else {
    stmt.Null(3);
  }
  stmt.Text(4, cycle.closed_by);
  return ChangeOne(stmt, kUpdateCycleCtx, "cycle not found");
}

absl::StatusOr<int64_t> SqliteTxn::InsertPayment(const PaymentRecord& p) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertPayment));
  Stmt stmt(s);
  stmt.TextOrNull(1, p.idempotency_key);
  stmt.Int(2, p.cycle_id);
  if (p.line_id != 0) {
    stmt.Int(3, p.line_id);
  } else {
    stmt.Null(3);
  }
  stmt.Int(4, p.person_id);
  stmt.Text(5, p.programme_code);
  stmt.Text(6, p.period);
  stmt.Text(7, p.office_code);
  stmt.Int(8, p.amount_minor);
  stmt.Text(9, p.currency);
  stmt.Int(10, p.channel);
  stmt.Text(11, p.provider_reference);
  stmt.Int(12, Micros(p.paid_at));
  stmt.Int(13, p.supplement ? 1 : 0);
  stmt.Text(14, p.note);
  stmt.Int(15, Micros(p.recorded_at));
  stmt.Text(16, p.recorded_by);
  if (p.reversal_of != 0) {
    stmt.Int(17, p.reversal_of);
  } else {
    stmt.Null(17);
  }
  stmt.Text(18, p.reversal_reason);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertPaymentCtx);
  return sqlite3_last_insert_rowid(conn_->db());
}

// ---------------------------------------------------------------------------
// Users.

namespace {

constexpr ErrorContext kInsertUserCtx{"insert user",
                                     "user name already taken"};
constexpr ErrorContext kUpdateUserCtx{"update user"};
constexpr ErrorContext kReadUserCtx{"read users"};

void ReadUser(const Stmt& s, UserRecord* u) {
  Assign(&u->user_name, s.ColumnText(0));
  Assign(&u->display_name, s.ColumnText(1));
  u->role = static_cast<int>(s.ColumnInt(2));
  Assign(&u->office_code, s.ColumnText(3));
  u->disabled = s.ColumnInt(4) != 0;
  Assign(&u->password_hash, s.ColumnText(5));
  u->version = s.ColumnInt(6);
  u->created_at = FromMicros(s.ColumnInt(7));
  u->updated_at = FromMicros(s.ColumnInt(8));
}

// Binds ?1..?9 of kInsertUser / kUpdateUser.
void BindUser(Stmt& s, const UserRecord& u, int64_t version) {
  s.Text(1, u.user_name);
  s.Text(2, u.display_name);
  s.Int(3, u.role);
  s.Text(4, u.office_code);
  s.Int(5, u.disabled ? 1 : 0);
  s.Text(6, u.password_hash);
  s.Int(7, version);
  s.Int(8, Micros(u.created_at));
  s.Int(9, Micros(u.updated_at));
}

}  // namespace

absl::StatusOr<UserRecord> SqliteTxn::GetUser(absl::string_view user_name) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kGetUser));
  Stmt stmt(s);
  stmt.Text(1, user_name);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("user not found");
  if (rc != SQLITE_ROW) return conn_->Error(rc, kReadUserCtx);
  UserRecord u;
  ReadUser(stmt, &u);
  return u;
}

absl::StatusOr<std::vector<UserRecord>> SqliteTxn::ListUsers(
    absl::string_view office_code, absl::string_view after_name, int limit) {
  if (limit <= 0) return std::vector<UserRecord>();
  const Sql id =
      office_code.empty() ? Sql::kListUsers : Sql::kListUsersByOffice;
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(id));
  Stmt stmt(s);
  if (!office_code.empty()) stmt.Text(1, office_code);
  stmt.Text(2, after_name);  // '' sorts before every name
  stmt.Int(3, limit);
  std::vector<UserRecord> out;
  for (;;) {
    int rc = stmt.Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return conn_->Error(rc, kReadUserCtx);
    ReadUser(stmt, &out.emplace_back());
  }
  return out;
}

absl::Status SqliteTxn::InsertUser(const UserRecord& user) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kInsertUser));
  Stmt stmt(s);
  // The version of a new user is 1 (records.h).
  BindUser(stmt, user, /*version=*/1);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE) return conn_->Error(rc, kInsertUserCtx);
  return absl::OkStatus();
}

absl::Status SqliteTxn::UpdateUser(const UserRecord& user) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kUpdateUser));
  Stmt stmt(s);
  BindUser(stmt, user, user.version);
  return ChangeOne(stmt, kUpdateUserCtx, "user not found");
}

}  // namespace socle::storage::sqlite_internal

namespace socle::storage::sqlite_internal {

absl::StatusOr<ResealBatch> SqliteTxn::ResealPersons(int64_t after_id,
                                                     int limit) {
  struct Row {
    PersonRecord person;
    bool stale = false;
  };
  std::vector<Row> rows;
  ResealBatch batch;
  batch.last_person_id = after_id;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListPersonsToReseal));
    Stmt stmt(s);
    stmt.Int(1, after_id);
    stmt.Int(2, limit);
    for (;;) {
      int rc = stmt.Step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return conn_->Error(rc, kReadPersonCtx);
      Row& row = rows.emplace_back();
      row.person.id = stmt.ColumnInt(0);
      batch.last_person_id = row.person.id;
      if (stmt.ColumnInt(4) == 0) {  // plaintext, from before migration 5
        Assign(&row.person.national_id, stmt.ColumnText(1));
        Assign(&row.person.facts, stmt.ColumnBlob(3));
        row.stale = true;
        continue;
      }
      row.stale = UnderOldKey(*keys_, stmt.ColumnBlob(3)) ||
                  (!stmt.ColumnIsNull(2) && UnderOldKey(*keys_, stmt.ColumnBlob(2)));
      if (row.stale) {
        RETURN_IF_ERROR(OpenPerson(*keys_, stmt.ColumnBlob(2), stmt.ColumnBlob(3),
                                   &row.person));
      }
    }
  }
  batch.scanned = static_cast<int64_t>(rows.size());
  for (const Row& row : rows) {
    if (!row.stale) continue;
    const SealedPerson sealed = SealPerson(*keys_, row.person.id,
                                           row.person.national_id, row.person.facts);
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kResealPerson));
    Stmt stmt(s);
    stmt.Int(1, row.person.id);
    if (sealed.national_id.empty()) {
      stmt.Null(2);
      stmt.Null(3);
    } else {
      stmt.Blob(2, sealed.national_id);
      stmt.Blob(3, sealed.national_id_index);
    }
    stmt.Blob(4, sealed.facts);
    RETURN_IF_ERROR(ChangeOne(stmt, kUpdatePersonCtx, "person not found"));
    ++batch.resealed;
  }
  return batch;
}

absl::StatusOr<ResealBatch> SqliteTxn::ResealRequests(
    absl::string_view after_request_id, int limit) {
  struct Row {
    RequestRecord request;
    bool stale = false;
  };
  std::vector<Row> rows;
  ResealBatch batch;
  batch.last_request_id = std::string(after_request_id);
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListRequestsToReseal));
    Stmt stmt(s);
    stmt.Text(1, after_request_id);
    stmt.Int(2, limit);
    for (;;) {
      int rc = stmt.Step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return conn_->Error(rc, kReadRequestCtx);
      Row& row = rows.emplace_back();
      Assign(&row.request.request_id, stmt.ColumnText(0));
      batch.last_request_id = row.request.request_id;
      if (stmt.ColumnInt(3) == 0) {  // plaintext, from before migration 5
        Assign(&row.request.request, stmt.ColumnBlob(1));
        Assign(&row.request.response, stmt.ColumnBlob(2));
        row.stale = true;
        continue;
      }
      row.stale = UnderOldKey(*keys_, stmt.ColumnBlob(1)) ||
                  UnderOldKey(*keys_, stmt.ColumnBlob(2));
      if (row.stale) {
        RETURN_IF_ERROR(OpenRequest(*keys_, stmt.ColumnBlob(1), stmt.ColumnBlob(2),
                                    &row.request));
      }
    }
  }
  batch.scanned = static_cast<int64_t>(rows.size());
  for (const Row& row : rows) {
    if (!row.stale) continue;
    const SealedRequest sealed = SealRequest(*keys_, row.request);
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kResealRequest));
    Stmt stmt(s);
    stmt.Text(1, row.request.request_id);
    stmt.Blob(2, sealed.request);
    stmt.Blob(3, sealed.response);
    RETURN_IF_ERROR(ChangeOne(stmt, kPutRequestCtx, "request id not found"));
    ++batch.resealed;
  }
  return batch;
}

absl::StatusOr<ResealBatch> SqliteTxn::ResealLifeEvents(int64_t after_id,
                                                        int limit) {
  struct Row {
    int64_t id = 0;
    std::string details;
    bool stale = false;
  };
  std::vector<Row> rows;
  ResealBatch batch;
  batch.last_event_id = after_id;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kListEventsToReseal));
    Stmt stmt(s);
    stmt.Int(1, after_id);
    stmt.Int(2, limit);
    for (;;) {
      int rc = stmt.Step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return conn_->Error(rc, kReadEventCtx);
      Row& row = rows.emplace_back();
      row.id = stmt.ColumnInt(0);
      batch.last_event_id = row.id;
      if (stmt.ColumnInt(2) == 0) {  // plaintext, from before migration 5
        Assign(&row.details, stmt.ColumnBlob(1));
        row.stale = true;
      } else if (UnderOldKey(*keys_, stmt.ColumnBlob(1))) {
        ASSIGN_OR_RETURN(row.details, OpenEventDetails(*keys_, row.id, stmt.ColumnBlob(1)));
        row.stale = true;
      }
    }
  }
  batch.scanned = static_cast<int64_t>(rows.size());
  for (const Row& row : rows) {
    if (!row.stale) continue;
    const std::string sealed = SealEventDetails(*keys_, row.id, row.details);
    ASSIGN_OR_RETURN(sqlite3_stmt * s, conn_->Get(Sql::kResealEvent));
    Stmt stmt(s);
    stmt.Int(1, row.id);
    stmt.Blob(2, sealed);
    RETURN_IF_ERROR(ChangeOne(stmt, kInsertEventCtx, "life event not found"));
    ++batch.resealed;
  }
  return batch;
}

}  // namespace socle::storage::sqlite_internal
