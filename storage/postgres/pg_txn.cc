#include "storage/postgres/pg_txn.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/sealed_columns.h"

namespace socle::storage::pg_internal {
namespace {

// Column lists; the readers below depend on their order.
#define SOCLE_PG_PERSON_COLUMNS                                               \
  "p.id, p.version, p.national_id, p.given_name, p.family_name, p.sex, "      \
  "p.date_of_birth, p.date_of_death, p.province, p.district, p.commune, "     \
  "p.village, p.street, p.phone, p.office_code, p.name_key, p.district_key, " \
  "p.facts, p.duplicate_override_reason, p.registered_at, p.updated_at, "     \
  "p.national_id_sealed, p.sealed"
// $1..$22 as BindPerson adds them ($2, the plaintext national_id, always
// NULL now: the ID is in national_id_sealed, $21, and its blind index, $22,
// keeps it unique).
#define SOCLE_PG_PERSON_VALUES                                               \
  "$1::int8, $2::text, $3::text, $4::text, $5::int4, $6::date, $7::date, "   \
  "$8::text, $9::text, $10::text, $11::text, $12::text, $13::text, "         \
  "$14::text, $15::text, $16::text, $17::bytea, $18::text, $19::timestamptz, " \
  "$20::timestamptz, $21::bytea, $22::bytea, true"
#define SOCLE_PG_HOUSEHOLD_COLUMNS                                           \
  "id, version, office_code, province, district, commune, village, street, " \
  "head_person_id, created_at"
#define SOCLE_PG_MEMBER_COLUMNS "household_id, person_id, relationship, seq"
#define SOCLE_PG_EVENT_COLUMNS                                    \
  "id, person_id, date, type, details, correction, recorded_at, " \
  "recorded_by, office_code, sealed"
#define SOCLE_PG_ENROLMENT_COLUMNS                                         \
  "id, person_id, programme_code, office_code, status, start_date, "       \
  "end_date, amount_minor, currency, policy_version, version, created_at, " \
  "updated_at, details"
#define SOCLE_PG_POLICY_COLUMNS \
  "seq, activated_at, activated_by, file_name, text"
#define SOCLE_PG_REQUEST_COLUMNS \
  "request_id, method, request, response, created_at, sealed"
// The conditions of an audit query: $1 after seq, $2 subject, $3 actor
// prefix, $4 office ('' any), $5 since, $6 until (NULL: none), $7 limit.
#define SOCLE_PG_AUDIT_FILTER                                              \
  " AND ($2::text = '' OR subject = $2::text)"                             \
  " AND ($3::text = '' OR starts_with(actor, $3::text))"                   \
  " AND ($4::text = '' OR office_code = $4::text)"                         \
  " AND ($5::timestamptz IS NULL OR at >= $5::timestamptz)"                \
  " AND ($6::timestamptz IS NULL OR at < $6::timestamptz)"                 \
  " ORDER BY seq LIMIT $7::int8"
#define SOCLE_PG_AUDIT_COLUMNS \
  "seq, at, actor, office_code, action, subject, details, prev_hash, hash"
// A cycle and one of its totals (NULLs when it has none), ordered by
// currency: PgTxn::Cycles groups the rows of each cycle.
#define SOCLE_PG_CYCLE_COLUMNS                                          \
  "c.id, c.programme_code, c.period, c.status, c.opened_at, c.opened_by, " \
  "c.closed_at, c.closed_by, t.currency, t.lines, t.owed_minor"
// A payment that is not a reversal entry and that no reversal entry
// reverses: one probe of the unique index payments_reversal_of per payment.
// "OFFSET 0" keeps the NOT EXISTS a per-row probe: pulled up into an
// anti-join, the planner likes to run it as a merge join that reads the
// index of every reversal entry up to the payment, for each line. (A scalar
// "(SELECT r.id ...) IS NULL" probes alike but is estimated to keep 0.5 % of
// the rows, which turns the keyset pages into sorts of the whole period.)
// ReconcilePeriod, set-based, joins instead.
#define SOCLE_PG_EFFECTIVE(p)                                 \
  p ".reversal_of IS NULL AND NOT EXISTS (SELECT 1 FROM payments r" \
    " WHERE r.reversal_of = " p ".id OFFSET 0)"
// Lines with their payment figures, computed by one lookup in
// payments_by_line per line (the aggregate always yields one row).
#define SOCLE_PG_LINE_COLUMNS                                          \
  "l.id, l.cycle_id, l.enrolment_id, l.person_id, l.programme_code, " \
  "l.office_code, l.amount_minor, l.currency, f.n, f.net"
#define SOCLE_PG_LINE_FIGURES                                                \
  " CROSS JOIN LATERAL (SELECT count(*) AS n,"                               \
  " coalesce(sum(q.amount_minor), 0)::int8 AS net FROM payments q"          \
  " WHERE q.line_id = l.id AND " SOCLE_PG_EFFECTIVE("q") ") f"
// NULL ids (line_id, reversal_of, reversed_by) read as 0.
#define SOCLE_PG_PAYMENT_COLUMNS                                              \
  "p.id, p.idempotency_key, p.cycle_id, coalesce(p.line_id, 0), "             \
  "p.person_id, p.programme_code, p.period, p.office_code, p.amount_minor, " \
  "p.currency, p.channel, p.provider_reference, p.paid_at, p.supplement, "    \
  "p.note, p.recorded_at, p.recorded_by, coalesce(p.reversal_of, 0), "        \
  "p.reversal_reason, coalesce((SELECT r.id FROM payments r"                  \
  " WHERE r.reversal_of = p.id), 0)"
// The columns of both payment inserts, and their values but the id
// (PgTxn::InsertPayment binds them).
#define SOCLE_PG_PAYMENT_INSERT_COLUMNS                                     \
  "idempotency_key, cycle_id, line_id, person_id, programme_code, period, " \
  "office_code, amount_minor, currency, channel, provider_reference, "      \
  "paid_at, supplement, note, recorded_at, recorded_by, reversal_of, "      \
  "reversal_reason, id"
#define SOCLE_PG_PAYMENT_INSERT_VALUES                                      \
  "$1::text, $2::int8, $3::int8, $4::int8, $5::text, $6::text, $7::text, "  \
  "$8::int8, $9::text, $10::int4, $11::text, $12::timestamptz, $13::bool, " \
  "$14::text, $15::timestamptz, $16::text, $17::int8, $18::text"
// The period filter of the payment listings: $1 period, $2 office ('' any),
// $3 programme ('' any). Through payments_by_period, in id order.
#define SOCLE_PG_PAYMENTS_OF_PERIOD                                 \
  " p.period = $1::text AND ($2::text = '' OR p.office_code = $2::text)" \
  " AND ($3::text = '' OR p.programme_code = $3::text)"
#define SOCLE_PG_USER_COLUMNS                                             \
  "user_name, display_name, role, office_code, disabled, password_hash, " \
  "version, created_at, updated_at"
// $1..$9 as BindUser adds them.
#define SOCLE_PG_USER_VALUES                                           \
  "$1::text, $2::text, $3::int4, $4::text, $5::bool, $6::text, $7::int8, " \
  "$8::timestamptz, $9::timestamptz"

constexpr const char* kSqlText[] = {
    // kInsertPerson: $23 the id (kNextPersonId). When a row from before
    // migration 5 holds the same national ID in plaintext ($24), which the
    // UNIQUE blind index cannot see, the new row takes that row's id: the
    // primary key refuses it, a unique violation like any other taken
    // national ID. So the insert fails by itself and may be deferred
    // (Connection::DeferWrite).
    "INSERT INTO persons (version, national_id, given_name, family_name, sex, "
    "date_of_birth, date_of_death, province, district, commune, village, "
    "street, phone, office_code, name_key, district_key, facts, "
    "duplicate_override_reason, registered_at, updated_at, "
    "national_id_sealed, national_id_index, sealed, id) "
    "OVERRIDING SYSTEM VALUE SELECT " SOCLE_PG_PERSON_VALUES ", COALESCE("
    "(SELECT id FROM persons WHERE national_id = $24::text LIMIT 1), $23::int8)",
    // kUpdatePerson
    "UPDATE persons SET (version, national_id, given_name, family_name, sex, "
    "date_of_birth, date_of_death, province, district, commune, village, "
    "street, phone, office_code, name_key, district_key, facts, "
    "duplicate_override_reason, registered_at, updated_at, "
    "national_id_sealed, national_id_index, sealed) = "
    "(" SOCLE_PG_PERSON_VALUES ") WHERE id = $23::int8 AND NOT EXISTS"
    " (SELECT 1 FROM persons WHERE national_id = $24::text AND id <> $23::int8)",
    // kGetPerson
    "SELECT " SOCLE_PG_PERSON_COLUMNS " FROM persons p WHERE p.id = $1::int8",
    // kGetPersonByNationalId
    // $1 the blind index, $2 the national ID itself, which only rows
    // written before migration 5 and not yet sealed hold.
    "SELECT " SOCLE_PG_PERSON_COLUMNS
    " FROM persons p WHERE p.national_id_index = $1::bytea"
    " OR p.national_id = $2::text",
    // kFindDuplicates
    "SELECT " SOCLE_PG_PERSON_COLUMNS
    " FROM persons p WHERE p.name_key = $1::text AND p.date_of_birth = $2::date"
    " AND p.district_key = $3::text AND p.date_of_death IS NULL ORDER BY p.id",
    // kFindByOffice
    "SELECT " SOCLE_PG_PERSON_COLUMNS
    " FROM persons p WHERE p.office_code = $1::text AND p.id > $2::int8"
    " ORDER BY p.id LIMIT $3::int8",
    // kFindByHousehold
    "SELECT " SOCLE_PG_PERSON_COLUMNS
    " FROM household_members m JOIN persons p ON p.id = m.person_id"
    " WHERE m.household_id = $1::int8 AND m.person_id > $2::int8"
    " ORDER BY m.person_id LIMIT $3::int8",
    // kListPersons
    "SELECT " SOCLE_PG_PERSON_COLUMNS
    " FROM persons p WHERE p.id > $1::int8 ORDER BY p.id LIMIT $2::int8",
    // kInsertHousehold
    "INSERT INTO households (version, office_code, province, district, "
    "commune, village, street, head_person_id, created_at) VALUES ($1::int8, "
    "$2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::int8, "
    "$9::timestamptz) RETURNING id",
    // kUpdateHousehold
    "UPDATE households SET (version, office_code, province, district, "
    "commune, village, street, head_person_id, created_at) = ($1::int8, "
    "$2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::int8, "
    "$9::timestamptz) WHERE id = $10::int8",
    // kGetHousehold
    "SELECT " SOCLE_PG_HOUSEHOLD_COLUMNS " FROM households WHERE id = $1::int8",
    // kInsertMember: seq is the household's next.
    "INSERT INTO household_members (" SOCLE_PG_MEMBER_COLUMNS
    ") VALUES ($1::int8, $2::int8, $3::int4, (SELECT coalesce(max(seq), 0) + 1"
    " FROM household_members WHERE household_id = $1::int8))",
    // kUpdateMember
    "UPDATE household_members SET relationship = $3::int4"
    " WHERE household_id = $1::int8 AND person_id = $2::int8",
    // kDeleteMember
    "DELETE FROM household_members"
    " WHERE household_id = $1::int8 AND person_id = $2::int8",
    // kGetMembership
    "SELECT " SOCLE_PG_MEMBER_COLUMNS
    " FROM household_members WHERE person_id = $1::int8",
    // kListMembers
    "SELECT " SOCLE_PG_MEMBER_COLUMNS
    " FROM household_members WHERE household_id = $1::int8 ORDER BY seq",
    // kListMemberships
    "SELECT " SOCLE_PG_MEMBER_COLUMNS
    " FROM household_members WHERE person_id > $1::int8"
    " ORDER BY person_id LIMIT $2::int8",
    // kInsertLifeEvent
    // $9 the id (kNextEventId), details sealed.
    "INSERT INTO life_events (person_id, date, type, details, correction, "
    "recorded_at, recorded_by, office_code, sealed, id) OVERRIDING SYSTEM VALUE"
    " VALUES ($1::int8, $2::date, $3::int4, $4::bytea, $5::bool,"
    " $6::timestamptz, $7::text, $8::text, true, $9::int8)",
    // kListLifeEvents: with no cursor, ('-infinity', 0) sorts before every
    // event.
    "SELECT " SOCLE_PG_EVENT_COLUMNS
    " FROM life_events WHERE person_id = $1::int8"
    " AND (date, id) > ($2::date, $3::int8) ORDER BY date, id LIMIT $4::int8",
    // kInsertEnrolment
    "INSERT INTO enrolments (person_id, programme_code, office_code, status, "
    "start_date, end_date, amount_minor, currency, policy_version, version, "
    "created_at, updated_at, details) VALUES ($1::int8, $2::text, $3::text, "
    "$4::int4, $5::date, $6::date, $7::int8, $8::text, $9::text, $10::int8, "
    "$11::timestamptz, $12::timestamptz, $13::bytea) RETURNING id",
    // kUpdateEnrolment
    "UPDATE enrolments SET (person_id, programme_code, office_code, status, "
    "start_date, end_date, amount_minor, currency, policy_version, version, "
    "created_at, updated_at, details) = ($1::int8, $2::text, $3::text, "
    "$4::int4, $5::date, $6::date, $7::int8, $8::text, $9::text, $10::int8, "
    "$11::timestamptz, $12::timestamptz, $13::bytea) WHERE id = $14::int8",
    // kGetEnrolment
    "SELECT " SOCLE_PG_ENROLMENT_COLUMNS " FROM enrolments WHERE id = $1::int8",
    // kListEnrolmentsByPerson
    "SELECT " SOCLE_PG_ENROLMENT_COLUMNS
    " FROM enrolments WHERE person_id = $1::int8 ORDER BY id",
    // kListEnrolmentsByProgramme: any status.
    "SELECT " SOCLE_PG_ENROLMENT_COLUMNS
    " FROM enrolments WHERE programme_code = $1::text"
    " AND office_code = $2::text AND id > $3::int8 ORDER BY id LIMIT $4::int8",
    // kListEnrolmentsByProgrammeStatus
    "SELECT " SOCLE_PG_ENROLMENT_COLUMNS
    " FROM enrolments WHERE programme_code = $1::text"
    " AND office_code = $2::text AND id > $3::int8 AND status = $5::int4"
    " ORDER BY id LIMIT $4::int8",
    // kListEnrolmentsAll: any status, every office.
    "SELECT " SOCLE_PG_ENROLMENT_COLUMNS
    " FROM enrolments WHERE id > $1::int8 ORDER BY id LIMIT $2::int8",
    // kListEnrolmentsByStatusOnly: every office.
    "SELECT " SOCLE_PG_ENROLMENT_COLUMNS
    " FROM enrolments WHERE id > $1::int8 AND status = $3::int4"
    " ORDER BY id LIMIT $2::int8",
    // kListEnrolmentsByOffice: any status.
    "SELECT " SOCLE_PG_ENROLMENT_COLUMNS
    " FROM enrolments WHERE id > $1::int8 AND office_code = $3::text"
    " ORDER BY id LIMIT $2::int8",
    // kListEnrolmentsByStatusOffice
    "SELECT " SOCLE_PG_ENROLMENT_COLUMNS
    " FROM enrolments WHERE id > $1::int8 AND status = $3::int4"
    " AND office_code = $4::text ORDER BY id LIMIT $2::int8",
    // kInsertPolicy
    "INSERT INTO policies (activated_at, activated_by, file_name, text) VALUES "
    "($1::timestamptz, $2::text, $3::text, $4::text) RETURNING seq",
    // kGetActivePolicy
    "SELECT " SOCLE_PG_POLICY_COLUMNS
    " FROM policies ORDER BY seq DESC LIMIT 1",
    // kPutRequest
    "INSERT INTO requests (" SOCLE_PG_REQUEST_COLUMNS
    ") VALUES ($1::text, $2::text, $3::bytea, $4::bytea, $5::timestamptz,"
    " true)",
    // kGetRequest
    "SELECT " SOCLE_PG_REQUEST_COLUMNS
    " FROM requests WHERE request_id = $1::text",
    // kAppendAudit
    "INSERT INTO audit (" SOCLE_PG_AUDIT_COLUMNS
    ") VALUES ($1::int8, $2::timestamptz, $3::text, $4::text, $5::text, "
    "$6::text, $7::text, $8::text, $9::text)",
    // kLastAudit
    "SELECT " SOCLE_PG_AUDIT_COLUMNS " FROM audit ORDER BY seq DESC LIMIT 1",
    // kListAudit
    "SELECT " SOCLE_PG_AUDIT_COLUMNS
    " FROM audit WHERE seq > $1::int8 ORDER BY seq LIMIT $2::int8",
    // kInsertCycle: the cycle, its payroll and its totals in one statement:
    // $1..$7 the cycle, $8 the period's first day, $9 its last. The lines
    // are one INSERT ... SELECT from the programme's active enrolments (no
    // ORDER BY: a scan of enrolments reads them about in id order anyway,
    // and a sort of a million rows would spill to disk), and the totals one
    // aggregate over the lines just inserted (their RETURNING rows, not a
    // second read of the table). Returns the cycle id with each total.
    "WITH c AS (INSERT INTO cycles (programme_code, period, status, "
    "opened_at, opened_by, closed_at, closed_by) VALUES ($1::text, $2::text, "
    "$3::int4, $4::timestamptz, $5::text, $6::timestamptz, $7::text) "
    "RETURNING id),"
    " l AS (INSERT INTO lines (cycle_id, enrolment_id, person_id, "
    "programme_code, office_code, amount_minor, currency) SELECT c.id, e.id, "
    "e.person_id, e.programme_code, e.office_code, e.amount_minor, "
    "e.currency FROM c, enrolments e WHERE e.programme_code = $1::text "
    "AND e.status = 1 AND e.start_date <= $9::date "
    "AND (e.end_date IS NULL OR e.end_date >= $8::date) "
    "AND e.amount_minor > 0 RETURNING currency, amount_minor),"
    " t AS (INSERT INTO cycle_totals (cycle_id, currency, lines, owed_minor) "
    "SELECT (SELECT id FROM c), currency, count(*), sum(amount_minor) "
    "FROM l GROUP BY currency RETURNING currency, lines, owed_minor)"
    " SELECT c.id, t.currency, t.lines, t.owed_minor FROM c LEFT JOIN t ON"
    " true ORDER BY t.currency",
    // kUpdateCycle
    "UPDATE cycles SET status = $2::int4, closed_at = $3::timestamptz, "
    "closed_by = $4::text WHERE id = $1::int8",
    // kGetCycle
    "SELECT " SOCLE_PG_CYCLE_COLUMNS
    " FROM cycles c LEFT JOIN cycle_totals t ON t.cycle_id = c.id"
    " WHERE c.id = $1::int8 ORDER BY t.currency",
    // kFindCycle
    "SELECT " SOCLE_PG_CYCLE_COLUMNS
    " FROM cycles c LEFT JOIN cycle_totals t ON t.cycle_id = c.id"
    " WHERE c.programme_code = $1::text AND c.period = $2::text"
    " ORDER BY t.currency",
    // kListCycles: $1 programme ('' any), $2 period ('' any), $3 status
    // (0 any), $4 ids below, $5 limit. A small table (a cycle per programme
    // and month); the page of cycles first, then their totals.
    "SELECT " SOCLE_PG_CYCLE_COLUMNS
    " FROM (SELECT * FROM cycles WHERE id < $4::int8"
    " AND ($1::text = '' OR programme_code = $1::text)"
    " AND ($2::text = '' OR period = $2::text)"
    " AND ($3::int4 = 0 OR status = $3::int4)"
    " ORDER BY id DESC LIMIT $5::int8) c"
    " LEFT JOIN cycle_totals t ON t.cycle_id = c.id"
    " ORDER BY c.id DESC, t.currency",
    // kGetLine
    "SELECT " SOCLE_PG_LINE_COLUMNS " FROM lines l" SOCLE_PG_LINE_FIGURES
    " WHERE l.id = $1::int8",
    // kGetLineByEnrolment
    "SELECT " SOCLE_PG_LINE_COLUMNS " FROM lines l" SOCLE_PG_LINE_FIGURES
    " WHERE l.cycle_id = $1::int8 AND l.enrolment_id = $2::int8",
    // kListLines: $1 cycle, $2 after enrolment id, $3 limit. In the order
    // of the UNIQUE (cycle_id, enrolment_id) index: a page reads no more
    // lines than it returns.
    "SELECT " SOCLE_PG_LINE_COLUMNS " FROM lines l" SOCLE_PG_LINE_FIGURES
    " WHERE l.cycle_id = $1::int8 AND l.enrolment_id > $2::int8"
    " ORDER BY l.enrolment_id LIMIT $3::int8",
    // kListLinesByOffice: the same, $4 office (index lines_by_cycle_office).
    "SELECT " SOCLE_PG_LINE_COLUMNS " FROM lines l" SOCLE_PG_LINE_FIGURES
    " WHERE l.cycle_id = $1::int8 AND l.office_code = $4::text"
    " AND l.enrolment_id > $2::int8 ORDER BY l.enrolment_id LIMIT $3::int8",
    // kInsertPayment: a payment whose cycle, line and person the
    // transaction has not read. Inserts nothing when one of them is missing
    // (payments have no foreign keys for them: migration 8).
    "INSERT INTO payments (" SOCLE_PG_PAYMENT_INSERT_COLUMNS ")"
    " OVERRIDING SYSTEM VALUE SELECT " SOCLE_PG_PAYMENT_INSERT_VALUES ","
    " nextval('payments_id_seq'::regclass)"
    " WHERE EXISTS (SELECT 1 FROM cycles WHERE id = $2::int8)"
    " AND ($3::int8 IS NULL OR EXISTS (SELECT 1 FROM lines WHERE id = $3::int8))"
    " AND EXISTS (SELECT 1 FROM persons WHERE id = $4::int8) RETURNING id",
    // kGetPayment
    "SELECT " SOCLE_PG_PAYMENT_COLUMNS " FROM payments p WHERE p.id = $1::int8",
    // kGetPaymentByKey
    "SELECT " SOCLE_PG_PAYMENT_COLUMNS
    " FROM payments p WHERE p.idempotency_key = $1::text",
    // kListPaymentsByLine
    "SELECT " SOCLE_PG_PAYMENT_COLUMNS
    " FROM payments p WHERE p.line_id = $1::int8 ORDER BY p.id",
    // kReconcilePeriod: $1 period, $2 office ('' any), $3 programme ('' any),
    // $4 the period's first day. One statement, set-based: line figures (lt)
    // and payment figures (pt) are aggregated separately, so that the
    // balance between them is a check and not a tautology. Payments are
    // read through payments_by_period, lines through their cycle (cycle by
    // cycle: "OFFSET 0" keeps the planner from joining the period's few
    // cycles to a scan of every line of every period); "not
    // reversed" is one join against the reversal entries for the whole
    // period (the set-based form of SOCLE_PG_EFFECTIVE). sum() of int8 is
    // numeric in PostgreSQL: every figure is cast back to int8.
    "WITH cyc AS (SELECT id FROM cycles WHERE period = $1::text"
    "  AND ($3::text = '' OR programme_code = $3::text)),"
    " eff AS (SELECT p.line_id, count(*) AS n, sum(p.amount_minor) AS net"
    "  FROM payments p LEFT JOIN payments r ON r.reversal_of = p.id"
    "  WHERE p.period = $1::text AND p.line_id IS NOT NULL"
    "  AND p.reversal_of IS NULL AND r.id IS NULL GROUP BY p.line_id),"
    " lx AS (SELECT l.office_code, l.programme_code, l.currency,"
    "  l.amount_minor AS owed, coalesce(e.n, 0) AS n,"
    "  coalesce(e.net, 0) AS net"
    "  FROM cyc CROSS JOIN LATERAL (SELECT * FROM lines l"
    "   WHERE l.cycle_id = cyc.id AND ($2::text = '' OR l.office_code = $2::text)"
    "   OFFSET 0) l"
    "  LEFT JOIN eff e ON e.line_id = l.id),"
    " lt AS (SELECT office_code, programme_code, currency, count(*) AS lines,"
    "  sum(owed) AS owed, sum(greatest(owed - net, 0)) AS outstanding,"
    "  sum(greatest(net - owed, 0)) AS excess,"
    "  count(*) FILTER (WHERE net = owed) AS in_full,"
    "  count(*) FILTER (WHERE net = 0) AS unpaid,"
    "  count(*) FILTER (WHERE net > 0 AND net < owed) AS under,"
    "  count(*) FILTER (WHERE net > owed"
    "   AND NOT (n >= 2 AND net >= 2 * owed)) AS over,"
    "  count(*) FILTER (WHERE n >= 2 AND net >= 2 * owed) AS twice"
    "  FROM lx GROUP BY office_code, programme_code, currency),"
    " px AS (SELECT p.office_code, p.programme_code, p.currency,"
    "  p.amount_minor AS amount, p.reversal_of IS NOT NULL AS is_reversal,"
    "  p.reversal_of IS NULL AND r.id IS NULL AS effective,"
    "  p.line_id IS NULL AS no_line,"
    "  coalesce(d.date_of_death < $4::date, false) AS dead"
    "  FROM payments p LEFT JOIN payments r ON r.reversal_of = p.id"
    "  LEFT JOIN persons d ON d.id = p.person_id"
    "  WHERE " SOCLE_PG_PAYMENTS_OF_PERIOD "),"
    " pt AS (SELECT office_code, programme_code, currency,"
    "  count(*) FILTER (WHERE NOT is_reversal) AS payments,"
    "  sum(amount) FILTER (WHERE NOT is_reversal) AS paid,"
    "  sum(amount) FILTER (WHERE is_reversal) AS reversed,"
    "  sum(amount) FILTER (WHERE effective AND no_line) AS excess,"
    "  count(*) FILTER (WHERE effective AND dead) AS after_death,"
    "  count(*) FILTER (WHERE effective AND NOT dead AND no_line)"
    "   AS without_line"
    "  FROM px GROUP BY office_code, programme_code, currency),"
    " k AS (SELECT office_code, programme_code, currency FROM lt"
    "  UNION SELECT office_code, programme_code, currency FROM pt)"
    " SELECT k.office_code, k.programme_code, k.currency,"
    "  coalesce(lt.lines, 0)::int8, coalesce(lt.owed, 0)::int8,"
    "  coalesce(pt.payments, 0)::int8, coalesce(pt.paid, 0)::int8,"
    "  coalesce(pt.reversed, 0)::int8, coalesce(lt.outstanding, 0)::int8,"
    "  (coalesce(lt.excess, 0) + coalesce(pt.excess, 0))::int8,"
    "  coalesce(lt.in_full, 0)::int8, coalesce(lt.unpaid, 0)::int8,"
    "  coalesce(lt.under, 0)::int8, coalesce(lt.over, 0)::int8,"
    "  coalesce(lt.twice, 0)::int8, coalesce(pt.after_death, 0)::int8,"
    "  coalesce(pt.without_line, 0)::int8"
    " FROM k LEFT JOIN lt USING (office_code, programme_code, currency)"
    " LEFT JOIN pt USING (office_code, programme_code, currency)"
    " ORDER BY k.office_code, k.programme_code, k.currency",
    // kListUnbalancedLines: $1 period, $2 office ('' any), $3 programme
    // ('' any), ($4, $5) the cursor (cycle id, enrolment id; (0, 0) for
    // none), $6 limit. The period's cycles (a handful) in id order, and for
    // each a page of its lines in the order of the UNIQUE (cycle_id,
    // enrolment_id) index: no page sorts or reads more than the cycles' next
    // $6 unbalanced lines.
    "SELECT x.* FROM (SELECT id FROM cycles WHERE period = $1::text"
    " AND ($3::text = '' OR programme_code = $3::text) AND id >= $4::int8) c"
    " CROSS JOIN LATERAL (SELECT " SOCLE_PG_LINE_COLUMNS
    " FROM lines l" SOCLE_PG_LINE_FIGURES
    " WHERE l.cycle_id = c.id AND ($2::text = '' OR l.office_code = $2::text)"
    " AND l.enrolment_id > CASE WHEN c.id = $4::int8 THEN $5::int8 ELSE 0 END"
    " AND f.net <> l.amount_minor ORDER BY l.enrolment_id LIMIT $6::int8) x"
    " ORDER BY x.cycle_id, x.enrolment_id LIMIT $6::int8",
    // kListIrregularPayments: $1..$3 the period filter, $4 the period's
    // first day, $5 after id, $6 limit. Effective payments of the period
    // with no line (through payments_without_line, in id order) or with a
    // line but paid to a person who died before $4 (the dead through
    // persons_by_death, then their payments through payments_by_person):
    // the two kinds are disjoint, and each is read through what makes it
    // irregular, so a period with none reads next to nothing (reading every
    // payment of the period and its person took as long as the period's
    // aggregate). "IS NOT NULL" tells the generic plan that the dead are
    // few (it would guess a third of the persons for "< $4" alone).
    "SELECT " SOCLE_PG_PAYMENT_COLUMNS ", d.date_of_death FROM ("
    "(SELECT p.* FROM payments p WHERE p.line_id IS NULL AND"
    SOCLE_PG_PAYMENTS_OF_PERIOD " AND p.id > $5::int8"
    " AND " SOCLE_PG_EFFECTIVE("p") " ORDER BY p.id LIMIT $6::int8)"
    " UNION ALL"
    " (SELECT p.* FROM persons x JOIN payments p ON p.person_id = x.id"
    " WHERE x.date_of_death IS NOT NULL AND x.date_of_death < $4::date"
    " AND p.line_id IS NOT NULL AND" SOCLE_PG_PAYMENTS_OF_PERIOD
    " AND p.id > $5::int8 AND " SOCLE_PG_EFFECTIVE("p") ")) p"
    " JOIN persons d ON d.id = p.person_id"
    " ORDER BY p.id LIMIT $6::int8",
    // kListReferencedPayments: $1..$3 the period filter, $4 channel (0 any),
    // $5 after id, $6 limit.
    "SELECT " SOCLE_PG_PAYMENT_COLUMNS
    " FROM payments p WHERE" SOCLE_PG_PAYMENTS_OF_PERIOD
    " AND ($4::int4 = 0 OR p.channel = $4::int4) AND p.id > $5::int8"
    " AND p.provider_reference <> '' AND " SOCLE_PG_EFFECTIVE("p")
    " ORDER BY p.id LIMIT $6::int8",
    // kQueryAudit, kQueryAuditBySubject (index audit_by_subject),
    // kQueryAuditByOffice (index audit_by_office): see PgTxn::QueryAudit.
    "SELECT " SOCLE_PG_AUDIT_COLUMNS " FROM audit WHERE seq > $1::int8"
    SOCLE_PG_AUDIT_FILTER,
    "SELECT " SOCLE_PG_AUDIT_COLUMNS
    " FROM audit WHERE subject = $2::text AND seq > $1::int8" SOCLE_PG_AUDIT_FILTER,
    "SELECT " SOCLE_PG_AUDIT_COLUMNS
    " FROM audit WHERE office_code = $4::text AND seq > $1::int8" SOCLE_PG_AUDIT_FILTER,
    // kNextPersonId: the id of the row about to be inserted, drawn before
    // the insert so that its sealed values can be bound to it (the AAD).
    "SELECT nextval('persons_id_seq'::regclass)",
    // kListPersonsToReseal: $1 after id, $2 limit.
    "SELECT id, national_id, national_id_sealed, facts, sealed FROM persons"
    " WHERE id > $1::int8 ORDER BY id LIMIT $2::int8",
    // kResealPerson
    "UPDATE persons SET national_id = NULL, national_id_sealed = $2::bytea,"
    " national_id_index = $3::bytea, facts = $4::bytea, sealed = true"
    " WHERE id = $1::int8",
    // kListRequestsToReseal: $1 after request id, $2 limit.
    "SELECT request_id, request, response, sealed FROM requests"
    " WHERE request_id > $1::text ORDER BY request_id LIMIT $2::int8",
    // kResealRequest
    "UPDATE requests SET request = $2::bytea, response = $3::bytea,"
    " sealed = true WHERE request_id = $1::text",
    // kNextEventId: as kNextPersonId.
    "SELECT nextval('life_events_id_seq'::regclass)",
    // kListEventsToReseal: $1 after id, $2 limit.
    "SELECT id, details, sealed FROM life_events WHERE id > $1::int8"
    " ORDER BY id LIMIT $2::int8",
    // kResealEvent
    "UPDATE life_events SET details = $2::bytea, sealed = true"
    " WHERE id = $1::int8",
    // kGetUser
    "SELECT " SOCLE_PG_USER_COLUMNS " FROM users WHERE user_name = $1::text",
    // kListUsers: every office, in the primary key's order.
    "SELECT " SOCLE_PG_USER_COLUMNS
    " FROM users WHERE user_name > $1::text"
    " ORDER BY user_name LIMIT $2::int8",
    // kListUsersByOffice (index users_by_office)
    "SELECT " SOCLE_PG_USER_COLUMNS
    " FROM users WHERE user_name > $1::text AND office_code = $3::text"
    " ORDER BY user_name LIMIT $2::int8",
    // kInsertUser
    "INSERT INTO users (" SOCLE_PG_USER_COLUMNS ") VALUES "
    "(" SOCLE_PG_USER_VALUES ")",
    // kUpdateUser: the key is $1.
    "UPDATE users SET (display_name, role, office_code, disabled, "
    "password_hash, version, created_at, updated_at) = ($2::text, $3::int4, "
    "$4::text, $5::bool, $6::text, $7::int8, $8::timestamptz, "
    "$9::timestamptz) WHERE user_name = $1::text",
    // kNationalIdsHeld: $1 the blind indexes, $2 the national IDs
    // themselves (for rows from before migration 5, still in plaintext);
    // answers the 1-based positions held. One index probe or two per ID.
    "SELECT k.ord FROM unnest($1::bytea[], $2::text[]) WITH ORDINALITY"
    " AS k(idx, nid, ord) WHERE EXISTS (SELECT 1 FROM persons p"
    " WHERE p.national_id_index = k.idx) OR EXISTS (SELECT 1 FROM persons p"
    " WHERE p.national_id = k.nid)",
    // kFindDuplicateIds: $1 name keys, $2 dates of birth, $3 district keys;
    // (1-based position, id) of the living persons alike, as
    // kFindDuplicates finds them, one probe of persons_by_birth_name_district
    // per key.
    "SELECT k.ord, p.id FROM unnest($1::text[], $2::date[], $3::text[])"
    " WITH ORDINALITY AS k(name_key, dob, district_key, ord)"
    " JOIN persons p ON p.date_of_birth = k.dob AND p.name_key = k.name_key"
    " AND p.district_key = k.district_key WHERE p.date_of_death IS NULL"
    " ORDER BY k.ord, p.id",
    // kPlaintextNationalIdHeld: $1 national IDs; a row from before
    // migration 5 holds one of them in plaintext (the blind index's UNIQUE
    // cannot see those).
    "SELECT 1 FROM persons WHERE national_id = ANY($1::text[]) LIMIT 1",
    // kNextPersonIds: $1 ids drawn at once for InsertPersons.
    "SELECT nextval('persons_id_seq'::regclass)"
    " FROM generate_series(1, $1::int8)",
    // kNextPaymentId: as kNextPersonId, for a payment insert deferred.
    "SELECT nextval('payments_id_seq'::regclass)",
    // kGetPersonOfLine: $1 a line; its person, as kGetPerson reads them.
    "SELECT " SOCLE_PG_PERSON_COLUMNS " FROM persons p"
    " WHERE p.id = (SELECT person_id FROM lines WHERE id = $1::int8)",
    // kInsertCheckedPayment: a payment whose cycle, line and person the
    // transaction's reads found (PgTxn::Checked), $19 the id drawn ahead
    // (kNextPaymentId).
    "INSERT INTO payments (" SOCLE_PG_PAYMENT_INSERT_COLUMNS ")"
    " OVERRIDING SYSTEM VALUE VALUES (" SOCLE_PG_PAYMENT_INSERT_VALUES
    ", $19::int8)",
};
static_assert(std::size(kSqlText) == static_cast<size_t>(Sql::kCount),
              "one SQL text per Sql value, in order");

// Error contexts; the domain messages are those of the SQLite backend.
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
constexpr ErrorContext kInsertEnrolmentCtx{
    "insert enrolment", "person already enrolled in this programme",
    "person does not exist"};
constexpr ErrorContext kUpdateEnrolmentCtx{
    "update enrolment", "person already enrolled in this programme",
    "person does not exist"};
constexpr ErrorContext kReadEnrolmentCtx{"read enrolments"};
constexpr ErrorContext kInsertPolicyCtx{"insert policy"};
constexpr ErrorContext kReadPolicyCtx{"read policy"};
constexpr ErrorContext kPutRequestCtx{"store request",
                                      "request id already stored"};
constexpr ErrorContext kReadRequestCtx{"read request"};
constexpr ErrorContext kAppendAuditCtx{"append audit entry",
                                       "audit sequence number already used"};
constexpr ErrorContext kReadAuditCtx{"read audit"};
constexpr ErrorContext kInsertUserCtx{"insert user",
                                     "user name already taken"};
constexpr ErrorContext kUpdateUserCtx{"update user"};
constexpr ErrorContext kReadUserCtx{"read users"};

absl::Status Unexpected() {
  return absl::InternalError("unexpected column format from the database");
}

bool StorableDate(absl::CivilDay day) {
  return day.year() >= 1 && day.year() <= 9999;
}

// The parameters of kGetPersonByNationalId and kFindDuplicates, bound
// alike by the lookups and by Prefetch (whose answers Connection::Exec
// matches by statement and parameters). `index` receives the blind index
// and must outlive `p`.
void BindNationalIdLookup(Params& p, const KeyRing& keys, absl::string_view national_id,
                          std::string& index) {
  index = keys.BlindIndex(national_id);
  p.Bytea(index);
  p.Text(national_id);
}
void BindDuplicateKey(Params& p, absl::string_view name_key, absl::CivilDay date_of_birth,
                      absl::string_view district_key) {
  p.Text(name_key);
  p.Date(date_of_birth, "date_of_birth");
  p.Text(district_key);
}

void Assign(std::string* out, absl::string_view v) {
  out->assign(v.data(), v.size());
}

void ReadPerson(const Row& r, PersonRecord* p) {
  p->id = r.Int8(0);
  p->version = r.Int8(1);
  // Plaintext only in rows from before migration 5 (NULL reads as ""); see
  // PersonReader for the others.
  Assign(&p->national_id, r.Bytes(2));
  Assign(&p->given_name, r.Bytes(3));
  Assign(&p->family_name, r.Bytes(4));
  p->sex = r.Int4(5);
  p->date_of_birth = r.Date(6);
  if (r.IsNull(7)) {
    p->date_of_death.reset();
  } else {
    p->date_of_death = r.Date(7);
  }
  Assign(&p->province, r.Bytes(8));
  Assign(&p->district, r.Bytes(9));
  Assign(&p->commune, r.Bytes(10));
  Assign(&p->village, r.Bytes(11));
  Assign(&p->street, r.Bytes(12));
  Assign(&p->phone, r.Bytes(13));
  Assign(&p->office_code, r.Bytes(14));
  Assign(&p->name_key, r.Bytes(15));
  Assign(&p->district_key, r.Bytes(16));
  Assign(&p->facts, r.Bytes(17));
  Assign(&p->duplicate_override_reason, r.Bytes(18));
  p->registered_at = r.Time(19);
  p->updated_at = r.Time(20);
}

// Reads person rows and opens their sealed columns; the first failure is
// kept in *status (ReadAll's readers cannot fail).
auto PersonReader(const KeyRing* keys, absl::Status* status) {
  return [keys, status](const Row& r, PersonRecord* p) {
    ReadPerson(r, p);
    if (!r.Bool(22)) return;  // from before migration 5, not yet resealed
    absl::Status s = OpenPerson(*keys, r.Bytes(21), r.Bytes(17), p);
    if (!s.ok() && status->ok()) *status = s;
  };
}

// Adds $1..$22 of kInsertPerson / kUpdatePerson (Params; `sealed` must
// outlive the Exec), or the same columns of a COPY row (BinaryWriter).
template <typename Values>
void BindPerson(Values& s, const PersonRecord& p, int64_t version,
                const SealedPerson& sealed) {
  s.Int8(version);
  s.TextOrNull("");
  s.Text(p.given_name);
  s.Text(p.family_name);
  s.Int4(p.sex);
  s.Date(p.date_of_birth, "date_of_birth");
  s.DateOrNull(p.date_of_death, "date_of_death");
  s.Text(p.province);
  s.Text(p.district);
  s.Text(p.commune);
  s.Text(p.village);
  s.Text(p.street);
  s.Text(p.phone);
  s.Text(p.office_code);
  s.Text(p.name_key);
  s.Text(p.district_key);
  s.Bytea(sealed.facts);
  s.Text(p.duplicate_override_reason);
  s.Time(p.registered_at, "registered_at");
  s.Time(p.updated_at, "updated_at");
  s.TextOrNull(sealed.national_id);
  s.TextOrNull(sealed.national_id_index);
}

void ReadHousehold(const Row& r, HouseholdRecord* h) {
  h->id = r.Int8(0);
  h->version = r.Int8(1);
  Assign(&h->office_code, r.Bytes(2));
  Assign(&h->province, r.Bytes(3));
  Assign(&h->district, r.Bytes(4));
  Assign(&h->commune, r.Bytes(5));
  Assign(&h->village, r.Bytes(6));
  Assign(&h->street, r.Bytes(7));
  h->head_person_id = r.Int8(8);
  h->created_at = r.Time(9);
}

// Adds $1..$9 of kAppendAudit (Params), or the same columns of a COPY row
// (BinaryWriter: kCopyAudit).
template <typename Values>
void BindAudit(Values& s, const AuditRecord& entry) {
  s.Int8(entry.seq);
  s.Time(entry.at, "at");
  s.Text(entry.actor);
  s.Text(entry.office_code);
  s.Text(entry.action);
  s.Text(entry.subject);
  s.Text(entry.details);
  s.Text(entry.prev_hash);
  s.Text(entry.hash);
}

// Adds $1..$9 of kInsertHousehold / kUpdateHousehold.
void BindHousehold(Params& s, const HouseholdRecord& h) {
  s.Int8(h.version);
  s.Text(h.office_code);
  s.Text(h.province);
  s.Text(h.district);
  s.Text(h.commune);
  s.Text(h.village);
  s.Text(h.street);
  s.Int8(h.head_person_id);
  s.Time(h.created_at, "created_at");
}

MemberRecord ReadMember(const Row& r) {
  MemberRecord m;
  m.household_id = r.Int8(0);
  m.person_id = r.Int8(1);
  m.relationship = r.Int4(2);
  m.seq = r.Int8(3);
  return m;
}

void ReadEvent(const Row& r, LifeEventRecord* e) {
  e->id = r.Int8(0);
  e->person_id = r.Int8(1);
  e->date = r.Date(2);
  e->type = r.Int4(3);
  Assign(&e->details, r.Bytes(4));
  e->correction = r.Bool(5);
  e->recorded_at = r.Time(6);
  Assign(&e->recorded_by, r.Bytes(7));
  Assign(&e->office_code, r.Bytes(8));
}

void ReadEnrolment(const Row& r, EnrolmentRecord* e) {
  e->id = r.Int8(0);
  e->person_id = r.Int8(1);
  Assign(&e->programme_code, r.Bytes(2));
  Assign(&e->office_code, r.Bytes(3));
  e->status = r.Int4(4);
  e->start_date = r.Date(5);
  if (r.IsNull(6)) {
    e->end_date.reset();
  } else {
    e->end_date = r.Date(6);
  }
  e->amount_minor = r.Int8(7);
  Assign(&e->currency, r.Bytes(8));
  Assign(&e->policy_version, r.Bytes(9));
  e->version = r.Int8(10);
  e->created_at = r.Time(11);
  e->updated_at = r.Time(12);
  Assign(&e->details, r.Bytes(13));
}

// Adds $1..$13 of kInsertEnrolment / kUpdateEnrolment.
void BindEnrolment(Params& s, const EnrolmentRecord& e) {
  s.Int8(e.person_id);
  s.Text(e.programme_code);
  s.Text(e.office_code);
  s.Int4(e.status);
  s.Date(e.start_date, "start_date");
  s.DateOrNull(e.end_date, "end_date");
  s.Int8(e.amount_minor);
  s.Text(e.currency);
  s.Text(e.policy_version);
  s.Int8(e.version);
  s.Time(e.created_at, "created_at");
  s.Time(e.updated_at, "updated_at");
  s.Bytea(e.details);
}

void ReadPolicy(const Row& r, PolicyRecord* p) {
  p->seq = r.Int8(0);
  p->activated_at = r.Time(1);
  Assign(&p->activated_by, r.Bytes(2));
  Assign(&p->file_name, r.Bytes(3));
  Assign(&p->text, r.Bytes(4));
}

void ReadAudit(const Row& r, AuditRecord* a) {
  a->seq = r.Int8(0);
  a->at = r.Time(1);
  Assign(&a->actor, r.Bytes(2));
  Assign(&a->office_code, r.Bytes(3));
  Assign(&a->action, r.Bytes(4));
  Assign(&a->subject, r.Bytes(5));
  Assign(&a->details, r.Bytes(6));
  Assign(&a->prev_hash, r.Bytes(7));
  Assign(&a->hash, r.Bytes(8));
}

void ReadUser(const Row& r, UserRecord* u) {
  Assign(&u->user_name, r.Bytes(0));
  Assign(&u->display_name, r.Bytes(1));
  u->role = r.Int4(2);
  Assign(&u->office_code, r.Bytes(3));
  u->disabled = r.Bool(4);
  Assign(&u->password_hash, r.Bytes(5));
  u->version = r.Int8(6);
  u->created_at = r.Time(7);
  u->updated_at = r.Time(8);
}

// Adds $1..$9 of kInsertUser / kUpdateUser.
void BindUser(Params& s, const UserRecord& u, int64_t version) {
  s.Text(u.user_name);
  s.Text(u.display_name);
  s.Int4(u.role);
  s.Text(u.office_code);
  s.Bool(u.disabled);
  s.Text(u.password_hash);
  s.Int8(version);
  s.Time(u.created_at, "created_at");
  s.Time(u.updated_at, "updated_at");
}

// Reads every row of `r` with `read`; INTERNAL when a column is malformed.
template <typename T, typename ReadFn>
absl::StatusOr<std::vector<T>> ReadAll(const Result& r, ReadFn read) {
  const int n = PQntuples(r.get());
  std::vector<T> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Row row(r.get(), i);
    read(row, &out[static_cast<size_t>(i)]);
    if (!row.ok()) return Unexpected();
  }
  return out;
}

// Reads the only row of `r`, or NOT_FOUND with `not_found`.
template <typename T, typename ReadFn>
absl::StatusOr<T> ReadOne(const Result& r, ReadFn read, const char* not_found) {
  if (PQntuples(r.get()) == 0) return absl::NotFoundError(not_found);
  T out;
  Row row(r.get(), 0);
  read(row, &out);
  if (!row.ok()) return Unexpected();
  return out;
}

}  // namespace

const char* SqlText(Sql id) { return kSqlText[static_cast<int>(id)]; }

std::string NameSearchSql(size_t words) {
  // Persons born that day, each word a whole word of the name key: name_key
  // words are separated by single spaces, so ' word ' must occur in
  // ' name_key '. strpos() compares the bytes: no wildcard, no case folding.
  std::string sql = "SELECT " SOCLE_PG_PERSON_COLUMNS
                    " FROM persons p WHERE p.date_of_birth = $1::date"
                    " AND p.id > $2::int8";
  for (size_t i = 0; i < words; ++i) {
    absl::StrAppend(&sql, " AND strpos(' ' || p.name_key || ' ', $", i + 4,
                    "::text) > 0");
  }
  sql += " ORDER BY p.id LIMIT $3::int8";
  return sql;
}

absl::StatusOr<std::vector<PersonRecord>> PgTxn::Persons(Sql id,
                                                         const Params& params) {
  ASSIGN_OR_RETURN(Result r, conn_->Exec(id, params, kReadPersonCtx));
  absl::Status opened;
  ASSIGN_OR_RETURN(auto persons,
                   ReadAll<PersonRecord>(r, PersonReader(keys_, &opened)));
  RETURN_IF_ERROR(opened);
  return persons;
}

absl::StatusOr<std::vector<EnrolmentRecord>> PgTxn::Enrolments(
    Sql id, const Params& params) {
  ASSIGN_OR_RETURN(Result r, conn_->Exec(id, params, kReadEnrolmentCtx));
  return ReadAll<EnrolmentRecord>(r, ReadEnrolment);
}

absl::StatusOr<int64_t> PgTxn::NextId(Sql id, const ErrorContext& context) {
  ASSIGN_OR_RETURN(Result next, conn_->Exec(id, Params(), context));
  if (PQntuples(next.get()) != 1) return Unexpected();
  Row row(next.get(), 0);
  const int64_t value = row.Int8(0);
  if (!row.ok()) return Unexpected();
  return value;
}

absl::StatusOr<int64_t> PgTxn::InsertReturningId(Sql id, const Params& params,
                                                 const ErrorContext& context,
                                                 const char* none_inserted) {
  ASSIGN_OR_RETURN(Result r, conn_->ExecGuarded(id, params, context));
  if (PQntuples(r.get()) == 0 && none_inserted != nullptr) {
    return absl::FailedPreconditionError(none_inserted);
  }
  if (PQntuples(r.get()) != 1) return Unexpected();
  Row row(r.get(), 0);
  const int64_t assigned = row.Int8(0);
  if (!row.ok()) return Unexpected();
  return assigned;
}

absl::Status PgTxn::ChangeOne(Sql id, const Params& params,
                              const ErrorContext& context,
                              const char* not_found) {
  ASSIGN_OR_RETURN(Result r, conn_->ExecGuarded(id, params, context));
  const char* changed = PQcmdTuples(r.get());
  if (changed == nullptr || changed[0] == '\0' || changed[0] == '0') {
    return absl::NotFoundError(not_found);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Reads

absl::StatusOr<PersonRecord> PgTxn::GetPerson(int64_t id) {
  absl::Status opened;
  if (const int64_t line = std::exchange(person_of_line_, 0); line != 0) {
    // Announced as the person of a line (Prefetch): the answer, when there
    // is one, serves if that person is the one asked for.
    Params q;
    q.Int8(line);
    if (std::optional<Result> r = conn_->TakeAnswered(Sql::kGetPersonOfLine, q)) {
      absl::StatusOr<PersonRecord> person =
          ReadOne<PersonRecord>(*r, PersonReader(keys_, &opened), "person not found");
      if (person.ok() && opened.ok() && person->id == id) {
        checked_.person_found = id;
        return person;
      }
      opened = absl::OkStatus();
    }
  }
  Params p;
  p.Int8(id);
  ASSIGN_OR_RETURN(Result r, conn_->Exec(Sql::kGetPerson, p, kReadPersonCtx));
  ASSIGN_OR_RETURN(PersonRecord person,
                   ReadOne<PersonRecord>(r, PersonReader(keys_, &opened),
                                         "person not found"));
  RETURN_IF_ERROR(opened);
  checked_.person_found = id;
  return person;
}

absl::StatusOr<PersonRecord> PgTxn::GetPersonByNationalId(
    absl::string_view national_id) {
  if (national_id.empty()) return absl::NotFoundError("person not found");
  std::string index;
  Params p;
  BindNationalIdLookup(p, *keys_, national_id, index);
  ASSIGN_OR_RETURN(Result r, conn_->Exec(Sql::kGetPersonByNationalId, p,
                                         kReadPersonCtx));
  absl::Status opened;
  absl::StatusOr<PersonRecord> person = ReadOne<PersonRecord>(
      r, PersonReader(keys_, &opened), "person not found");
  if (absl::IsNotFound(person.status())) {
    checked_.national_id_absent = std::string(national_id);
  }
  RETURN_IF_ERROR(person.status());
  RETURN_IF_ERROR(opened);
  return person;
}

absl::StatusOr<std::vector<PersonRecord>> PgTxn::FindPossibleDuplicates(
    absl::string_view name_key, absl::CivilDay date_of_birth,
    absl::string_view district_key) {
  if (!StorableDate(date_of_birth)) return std::vector<PersonRecord>();
  Params p;
  BindDuplicateKey(p, name_key, date_of_birth, district_key);
  return Persons(Sql::kFindDuplicates, p);
}

absl::StatusOr<std::vector<PersonRecord>> PgTxn::FindPersonsByNameAndBirth(
    const std::vector<std::string>& words, absl::CivilDay date_of_birth,
    int64_t after_id, int limit) {
  if (limit <= 0 || !StorableDate(date_of_birth)) {
    return std::vector<PersonRecord>();
  }
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
  if (padded_words_.size() + 3 > static_cast<size_t>(Params::kMax)) {
    return absl::InvalidArgumentError("too many words in a name search");
  }
  Params p;
  p.Date(date_of_birth, "date_of_birth");
  p.Int8(after_id);
  p.Int8(limit);
  for (const std::string& w : padded_words_) p.Text(w);
  ASSIGN_OR_RETURN(Result r, conn_->ExecNameSearch(padded_words_.size(), p,
                                                   kReadPersonCtx));
  absl::Status opened;
  ASSIGN_OR_RETURN(auto persons,
                   ReadAll<PersonRecord>(r, PersonReader(keys_, &opened)));
  RETURN_IF_ERROR(opened);
  return persons;
}

absl::StatusOr<std::vector<PersonRecord>> PgTxn::FindPersonsByOffice(
    absl::string_view office_code, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<PersonRecord>();
  Params p;
  p.Text(office_code);
  p.Int8(after_id);
  p.Int8(limit);
  return Persons(Sql::kFindByOffice, p);
}

absl::StatusOr<std::vector<PersonRecord>> PgTxn::FindPersonsByHousehold(
    int64_t household_id, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<PersonRecord>();
  Params p;
  p.Int8(household_id);
  p.Int8(after_id);
  p.Int8(limit);
  return Persons(Sql::kFindByHousehold, p);
}

absl::StatusOr<std::vector<PersonRecord>> PgTxn::ListPersons(int64_t after_id,
                                                             int limit) {
  if (limit <= 0) return std::vector<PersonRecord>();
  Params p;
  p.Int8(after_id);
  p.Int8(limit);
  return Persons(Sql::kListPersons, p);
}

absl::StatusOr<HouseholdRecord> PgTxn::GetHousehold(int64_t id) {
  Params p;
  p.Int8(id);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kGetHousehold, p, kReadHouseholdCtx));
  return ReadOne<HouseholdRecord>(r, ReadHousehold, "household not found");
}

absl::StatusOr<std::vector<MemberRecord>> PgTxn::ListMembers(
    int64_t household_id) {
  Params p;
  p.Int8(household_id);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kListMembers, p, kReadMemberCtx));
  return ReadAll<MemberRecord>(
      r, [](const Row& row, MemberRecord* m) { *m = ReadMember(row); });
}

absl::StatusOr<MemberRecord> PgTxn::GetMembership(int64_t person_id) {
  Params p;
  p.Int8(person_id);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kGetMembership, p, kReadMemberCtx));
  return ReadOne<MemberRecord>(
      r, [](const Row& row, MemberRecord* m) { *m = ReadMember(row); },
      "person belongs to no household");
}

absl::StatusOr<std::vector<MemberRecord>> PgTxn::ListMemberships(
    int64_t after_person_id, int limit) {
  if (limit <= 0) return std::vector<MemberRecord>();
  Params p;
  p.Int8(after_person_id);
  p.Int8(limit);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kListMemberships, p, kReadMemberCtx));
  return ReadAll<MemberRecord>(
      r, [](const Row& row, MemberRecord* m) { *m = ReadMember(row); });
}

absl::StatusOr<std::vector<LifeEventRecord>> PgTxn::ListLifeEvents(
    int64_t person_id, std::optional<EventCursor> after, int limit) {
  if (limit <= 0) return std::vector<LifeEventRecord>();
  if (after.has_value() && !StorableDate(after->date)) {
    // Every stored date is in years 1..9999.
    if (after->date.year() > 9999) return std::vector<LifeEventRecord>();
    after.reset();
  }
  Params p;
  p.Int8(person_id);
  if (after.has_value()) {
    p.Date(after->date, "after");
    p.Int8(after->id);
  } else {
    p.DateMinusInfinity();
    p.Int8(0);
  }
  p.Int8(limit);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kListLifeEvents, p, kReadEventCtx));
  absl::Status opened;
  ASSIGN_OR_RETURN(
      std::vector<LifeEventRecord> events,
      ReadAll<LifeEventRecord>(r, [this, &opened](const Row& row, LifeEventRecord* e) {
        ReadEvent(row, e);
        if (!row.Bool(9)) return;  // from before migration 5, not yet resealed
        absl::StatusOr<std::string> details = OpenEventDetails(*keys_, e->id, e->details);
        if (details.ok()) {
          e->details = *std::move(details);
        } else if (opened.ok()) {
          opened = details.status();
        }
      }));
  RETURN_IF_ERROR(opened);
  return events;
}

absl::StatusOr<EnrolmentRecord> PgTxn::GetEnrolment(int64_t id) {
  Params p;
  p.Int8(id);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kGetEnrolment, p, kReadEnrolmentCtx));
  return ReadOne<EnrolmentRecord>(r, ReadEnrolment, "enrolment not found");
}

absl::StatusOr<std::vector<EnrolmentRecord>> PgTxn::ListEnrolmentsByPerson(
    int64_t person_id) {
  Params p;
  p.Int8(person_id);
  return Enrolments(Sql::kListEnrolmentsByPerson, p);
}

absl::StatusOr<std::vector<EnrolmentRecord>> PgTxn::ListEnrolmentsByProgramme(
    absl::string_view programme_code, absl::string_view office_code,
    int status, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<EnrolmentRecord>();
  Params p;
  p.Text(programme_code);
  p.Text(office_code);
  p.Int8(after_id);
  p.Int8(limit);
  if (status == 0) return Enrolments(Sql::kListEnrolmentsByProgramme, p);
  p.Int4(status);
  return Enrolments(Sql::kListEnrolmentsByProgrammeStatus, p);
}

absl::StatusOr<std::vector<EnrolmentRecord>> PgTxn::ListEnrolmentsByStatus(
    int status, absl::string_view office_code, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<EnrolmentRecord>();
  Params p;
  p.Int8(after_id);
  p.Int8(limit);
  if (status == 0 && office_code.empty()) {
    return Enrolments(Sql::kListEnrolmentsAll, p);
  }
  if (office_code.empty()) {
    p.Int4(status);
    return Enrolments(Sql::kListEnrolmentsByStatusOnly, p);
  }
  if (status == 0) {
    p.Text(office_code);
    return Enrolments(Sql::kListEnrolmentsByOffice, p);
  }
  p.Int4(status);
  p.Text(office_code);
  return Enrolments(Sql::kListEnrolmentsByStatusOffice, p);
}

absl::StatusOr<PolicyRecord> PgTxn::GetActivePolicy() {
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kGetActivePolicy, Params(), kReadPolicyCtx));
  return ReadOne<PolicyRecord>(r, ReadPolicy, "no policy activated");
}

absl::StatusOr<RequestRecord> PgTxn::GetRequest(absl::string_view request_id) {
  Params p;
  p.Text(request_id);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kGetRequest, p, kReadRequestCtx));
  absl::Status opened;
  ASSIGN_OR_RETURN(
      RequestRecord request,
      ReadOne<RequestRecord>(
          r,
          [this, &opened](const Row& row, RequestRecord* q) {
            Assign(&q->request_id, row.Bytes(0));
            Assign(&q->method, row.Bytes(1));
            q->created_at = row.Time(4);
            if (row.Bool(5)) {
              opened = OpenRequest(*keys_, row.Bytes(2), row.Bytes(3), q);
            } else {  // from before migration 5, not yet resealed
              Assign(&q->request, row.Bytes(2));
              Assign(&q->response, row.Bytes(3));
            }
          },
          "request id not found"));
  RETURN_IF_ERROR(opened);
  return request;
}

absl::StatusOr<AuditRecord> PgTxn::LastAudit() {
  if (audit_head_) return *audit_head_;
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kLastAudit, Params(), kReadAuditCtx));
  ASSIGN_OR_RETURN(AuditRecord head,
                   ReadOne<AuditRecord>(r, ReadAudit, "audit trail is empty"));
  audit_head_ = head;
  return head;
}

// Audit queries (kept apart from the rest for merges).
absl::StatusOr<std::vector<AuditRecord>> PgTxn::QueryAudit(
    const AuditFilter& filter, int64_t after_seq, int limit) {
  if (limit <= 0) return std::vector<AuditRecord>();
  const Sql id = !filter.subject.empty()       ? Sql::kQueryAuditBySubject
                 : !filter.office_code.empty() ? Sql::kQueryAuditByOffice
                                               : Sql::kQueryAudit;
  Params p;
  p.Int8(after_seq);
  p.Text(filter.subject);
  p.Text(filter.actor_prefix);
  p.Text(filter.office_code);
  if (filter.since) {
    p.Time(*filter.since, "since");
  } else {
    p.Null();
  }
  if (filter.until) {
    p.Time(*filter.until, "until");
  } else {
    p.Null();
  }
  p.Int8(limit);
  RETURN_IF_ERROR(p.status());
  ASSIGN_OR_RETURN(Result r, conn_->Exec(id, p, kReadAuditCtx));
  return ReadAll<AuditRecord>(r, ReadAudit);
}

absl::StatusOr<std::vector<AuditRecord>> PgTxn::ListAudit(int64_t after_seq,
                                                          int limit) {
  if (limit <= 0) return std::vector<AuditRecord>();
  Params p;
  p.Int8(after_seq);
  p.Int8(limit);
  ASSIGN_OR_RETURN(Result r, conn_->Exec(Sql::kListAudit, p, kReadAuditCtx));
  return ReadAll<AuditRecord>(r, ReadAudit);
}

absl::StatusOr<UserRecord> PgTxn::GetUser(absl::string_view user_name) {
  Params p;
  p.Text(user_name);
  ASSIGN_OR_RETURN(Result r, conn_->Exec(Sql::kGetUser, p, kReadUserCtx));
  return ReadOne<UserRecord>(r, ReadUser, "user not found");
}

absl::StatusOr<std::vector<UserRecord>> PgTxn::ListUsers(
    absl::string_view office_code, absl::string_view after_name, int limit) {
  if (limit <= 0) return std::vector<UserRecord>();
  Params p;
  p.Text(after_name);  // '' sorts before every name
  p.Int8(limit);
  Sql id = Sql::kListUsers;
  if (!office_code.empty()) {
    p.Text(office_code);
    id = Sql::kListUsersByOffice;
  }
  ASSIGN_OR_RETURN(Result r, conn_->Exec(id, p, kReadUserCtx));
  return ReadAll<UserRecord>(r, ReadUser);
}

// ---------------------------------------------------------------------------
// Writes: each runs guarded, so that fn may go on after a domain error;
// the person and payment inserts are deferred instead when the
// transaction's reads have ruled their errors out (Checked).

absl::StatusOr<int64_t> PgTxn::InsertPerson(const PersonRecord& person) {
  ASSIGN_OR_RETURN(const int64_t id, NextId(Sql::kNextPersonId, kInsertPersonCtx));
  const SealedPerson sealed =
      SealPerson(*keys_, id, person.national_id, person.facts);
  Params p;
  // The version of a new person is 1 (records.h).
  BindPerson(p, person, /*version=*/1, sealed);
  p.Int8(id);
  p.TextOrNull(person.national_id);
  // Its only failure is a taken national ID (the id is drawn from the
  // sequence): deferred when looked up and absent (Checked). Should it
  // fail anyway, the group runs again with it sent at once.
  const bool checked = person.national_id.empty() ||
                       person.national_id == checked_.national_id_absent;
  checked_.national_id_absent.clear();
  if (conn_->writes_deferred() && checked) {
    RETURN_IF_ERROR(conn_->DeferWrite(Sql::kInsertPerson, p, kInsertPersonCtx));
    return id;
  }
  RETURN_IF_ERROR(conn_->ExecGuarded(Sql::kInsertPerson, p, kInsertPersonCtx).status());
  return id;
}

absl::Status PgTxn::UpdatePerson(const PersonRecord& person) {
  checked_.national_id_absent.clear();
  const SealedPerson sealed =
      SealPerson(*keys_, person.id, person.national_id, person.facts);
  Params p;
  BindPerson(p, person, person.version, sealed);
  p.Int8(person.id);
  p.TextOrNull(person.national_id);
  absl::Status changed =
      ChangeOne(Sql::kUpdatePerson, p, kUpdatePersonCtx, "person not found");
  // Nothing changed: no such person, or an old row holds the ID in plaintext.
  if (absl::IsNotFound(changed) && GetPerson(person.id).ok()) {
    return absl::AlreadyExistsError(kUpdatePersonCtx.unique);
  }
  return changed;
}

absl::StatusOr<int64_t> PgTxn::InsertHousehold(
    const HouseholdRecord& household) {
  Params p;
  BindHousehold(p, household);
  return InsertReturningId(Sql::kInsertHousehold, p, kInsertHouseholdCtx);
}

absl::Status PgTxn::UpdateHousehold(const HouseholdRecord& household) {
  Params p;
  BindHousehold(p, household);
  p.Int8(household.id);
  return ChangeOne(Sql::kUpdateHousehold, p, kUpdateHouseholdCtx,
                   "household not found");
}

absl::Status PgTxn::InsertMember(const MemberRecord& member) {
  Params p;
  p.Int8(member.household_id);
  p.Int8(member.person_id);
  p.Int4(member.relationship);
  return conn_->ExecGuarded(Sql::kInsertMember, p, kInsertMemberCtx).status();
}

absl::Status PgTxn::UpdateMember(const MemberRecord& member) {
  Params p;
  p.Int8(member.household_id);
  p.Int8(member.person_id);
  p.Int4(member.relationship);
  return ChangeOne(Sql::kUpdateMember, p, kUpdateMemberCtx,
                   "person is not a member of that household");
}

absl::Status PgTxn::DeleteMember(int64_t household_id, int64_t person_id) {
  Params p;
  p.Int8(household_id);
  p.Int8(person_id);
  return ChangeOne(Sql::kDeleteMember, p, kDeleteMemberCtx,
                   "person is not a member of that household");
}

absl::StatusOr<int64_t> PgTxn::InsertLifeEvent(const LifeEventRecord& event) {
  ASSIGN_OR_RETURN(const int64_t id, NextId(Sql::kNextEventId, kInsertEventCtx));
  const std::string details = SealEventDetails(*keys_, id, event.details);
  Params p;
  p.Int8(event.person_id);
  p.Date(event.date, "date");
  p.Int4(event.type);
  p.Bytea(details);
  p.Bool(event.correction);
  p.Time(event.recorded_at, "recorded_at");
  p.Text(event.recorded_by);
  p.Text(event.office_code);
  p.Int8(id);
  RETURN_IF_ERROR(
      conn_->ExecGuarded(Sql::kInsertLifeEvent, p, kInsertEventCtx).status());
  return id;
}

absl::StatusOr<int64_t> PgTxn::InsertEnrolment(
    const EnrolmentRecord& enrolment) {
  Params p;
  BindEnrolment(p, enrolment);
  return InsertReturningId(Sql::kInsertEnrolment, p, kInsertEnrolmentCtx);
}

absl::Status PgTxn::UpdateEnrolment(const EnrolmentRecord& enrolment) {
  Params p;
  BindEnrolment(p, enrolment);
  p.Int8(enrolment.id);
  return ChangeOne(Sql::kUpdateEnrolment, p, kUpdateEnrolmentCtx,
                   "enrolment not found");
}

absl::StatusOr<int64_t> PgTxn::InsertPolicy(const PolicyRecord& policy) {
  Params p;
  p.Time(policy.activated_at, "activated_at");
  p.Text(policy.activated_by);
  p.Text(policy.file_name);
  p.Text(policy.text);
  return InsertReturningId(Sql::kInsertPolicy, p, kInsertPolicyCtx);
}

absl::Status PgTxn::InsertUser(const UserRecord& user) {
  Params p;
  // The version of a new user is 1 (records.h).
  BindUser(p, user, /*version=*/1);
  return conn_->ExecGuarded(Sql::kInsertUser, p, kInsertUserCtx).status();
}

absl::Status PgTxn::UpdateUser(const UserRecord& user) {
  Params p;
  BindUser(p, user, user.version);
  return ChangeOne(Sql::kUpdateUser, p, kUpdateUserCtx, "user not found");
}

absl::Status PgTxn::PutRequest(const RequestRecord& request) {
  const SealedRequest sealed = SealRequest(*keys_, request);
  Params p;
  p.Text(request.request_id);
  p.Text(request.method);
  p.Bytea(sealed.request);
  p.Bytea(sealed.response);
  p.Time(request.created_at, "created_at");
  // The logic looked the id up first (GetRequest) under the writers' lock,
  // so the insert is not expected to fail: it travels with the next round
  // trip when the writer defers writes.
  if (conn_->writes_deferred()) {
    return conn_->DeferWrite(Sql::kPutRequest, p, kPutRequestCtx);
  }
  return conn_->ExecGuarded(Sql::kPutRequest, p, kPutRequestCtx).status();
}

// ---------------------------------------------------------------------------
// Bulk registration: a constant number of round trips per batch (two
// lookups; the ids, a check of plaintext IDs and one COPY for the persons;
// one COPY for their audit entries) instead of several per person.

namespace {

constexpr ErrorContext kBulkLookupCtx{"look up persons"};
constexpr ErrorContext kCopyPersonsCtx{"insert persons", "national ID already registered",
                                       nullptr};
constexpr ErrorContext kCopyAuditCtx{"append audit entries",
                                     "audit sequence number already used"};

// The columns BindPerson writes, then the id.
constexpr char kCopyPersons[] =
    "COPY persons (version, national_id, given_name, family_name, sex, "
    "date_of_birth, date_of_death, province, district, commune, village, "
    "street, phone, office_code, name_key, district_key, facts, "
    "duplicate_override_reason, registered_at, updated_at, "
    "national_id_sealed, national_id_index, sealed, id) FROM STDIN (FORMAT binary)";
constexpr int16_t kCopyPersonFields = 24;
constexpr char kCopyAudit[] =
    "COPY audit (seq, at, actor, office_code, action, subject, details, prev_hash, hash)"
    " FROM STDIN (FORMAT binary)";

}  // namespace

absl::StatusOr<std::vector<bool>> PgTxn::NationalIdsHeld(
    const std::vector<std::string>& national_ids) {
  std::vector<bool> held(national_ids.size(), false);
  std::vector<size_t> asked;  // positions of the non-empty IDs
  for (size_t i = 0; i < national_ids.size(); ++i) {
    if (!national_ids[i].empty()) asked.push_back(i);
  }
  if (asked.empty()) return held;
  BinaryWriter indexes, plain;
  indexes.BeginArray(BinaryWriter::kByteaOid, static_cast<int32_t>(asked.size()));
  plain.BeginArray(BinaryWriter::kTextOid, static_cast<int32_t>(asked.size()));
  for (size_t i : asked) {
    indexes.Bytea(keys_->BlindIndex(national_ids[i]));
    plain.Text(national_ids[i]);
  }
  Params p;
  p.Bytea(indexes.data());
  p.Bytea(plain.data());
  ASSIGN_OR_RETURN(Result r, conn_->Exec(Sql::kNationalIdsHeld, p, kBulkLookupCtx));
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    Row cols(r.get(), row);
    const int64_t ord = cols.Int8(0);
    if (!cols.ok() || ord < 1 || ord > static_cast<int64_t>(asked.size())) return Unexpected();
    held[asked[ord - 1]] = true;
  }
  return held;
}

absl::StatusOr<std::vector<std::vector<int64_t>>> PgTxn::FindPossibleDuplicateIds(
    const std::vector<DuplicateKey>& keys) {
  std::vector<std::vector<int64_t>> out(keys.size());
  std::vector<size_t> asked;  // positions of the keys with a storable date
  for (size_t i = 0; i < keys.size(); ++i) {
    if (StorableDate(keys[i].date_of_birth)) asked.push_back(i);
  }
  if (asked.empty()) return out;
  const int32_t n = static_cast<int32_t>(asked.size());
  BinaryWriter names, births, districts;
  names.BeginArray(BinaryWriter::kTextOid, n);
  births.BeginArray(BinaryWriter::kDateOid, n);
  districts.BeginArray(BinaryWriter::kTextOid, n);
  for (size_t i : asked) {
    names.Text(keys[i].name_key);
    births.Date(keys[i].date_of_birth, "date_of_birth");
    districts.Text(keys[i].district_key);
  }
  RETURN_IF_ERROR(births.status());
  Params p;
  p.Bytea(names.data());
  p.Bytea(births.data());
  p.Bytea(districts.data());
  ASSIGN_OR_RETURN(Result r, conn_->Exec(Sql::kFindDuplicateIds, p, kBulkLookupCtx));
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    Row cols(r.get(), row);
    const int64_t ord = cols.Int8(0);
    const int64_t id = cols.Int8(1);
    if (!cols.ok() || ord < 1 || ord > n) return Unexpected();
    out[asked[ord - 1]].push_back(id);
  }
  return out;
}

absl::Status PgTxn::InsertPersons(std::vector<PersonRecord>& persons) {
  checked_.national_id_absent.clear();
  if (persons.empty()) return absl::OkStatus();
  std::vector<const std::string*> national_ids;
  for (const PersonRecord& person : persons) {
    if (!person.national_id.empty()) national_ids.push_back(&person.national_id);
  }
  if (!national_ids.empty()) {
    BinaryWriter plain;
    plain.BeginArray(BinaryWriter::kTextOid, static_cast<int32_t>(national_ids.size()));
    for (const std::string* id : national_ids) plain.Text(*id);
    Params p;
    p.Bytea(plain.data());
    ASSIGN_OR_RETURN(Result r,
                     conn_->Exec(Sql::kPlaintextNationalIdHeld, p, kCopyPersonsCtx));
    if (PQntuples(r.get()) != 0) return absl::AlreadyExistsError(kCopyPersonsCtx.unique);
  }
  Params count;
  count.Int8(static_cast<int64_t>(persons.size()));
  ASSIGN_OR_RETURN(Result next, conn_->Exec(Sql::kNextPersonIds, count, kCopyPersonsCtx));
  if (PQntuples(next.get()) != static_cast<int>(persons.size())) return Unexpected();
  std::vector<int64_t> ids(persons.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    Row row(next.get(), static_cast<int>(i));
    ids[i] = row.Int8(0);
    if (!row.ok()) return Unexpected();
  }
  std::sort(ids.begin(), ids.end());  // ascending in request order
  BinaryWriter rows;
  rows.BeginCopy();
  for (size_t i = 0; i < persons.size(); ++i) {
    PersonRecord& person = persons[i];
    person.id = ids[i];
    const SealedPerson sealed = SealPerson(*keys_, person.id, person.national_id, person.facts);
    rows.Row(kCopyPersonFields);
    // The version of a new person is 1 (records.h).
    BindPerson(rows, person, /*version=*/1, sealed);
    rows.Bool(true);  // sealed
    rows.Int8(person.id);
  }
  rows.Finish();
  return conn_->CopyIn(kCopyPersons, rows, kCopyPersonsCtx);
}

absl::Status PgTxn::AppendAudits(const std::vector<AuditRecord>& entries) {
  if (entries.empty()) return absl::OkStatus();
  BinaryWriter rows;
  rows.BeginCopy();
  for (const AuditRecord& entry : entries) {
    rows.Row(9);
    BindAudit(rows, entry);
  }
  rows.Finish();
  audit_head_.reset();
  RETURN_IF_ERROR(conn_->CopyIn(kCopyAudit, rows, kCopyAuditCtx));
  audit_head_ = entries.back();
  return absl::OkStatus();
}

absl::Status PgTxn::AppendAudit(const AuditRecord& entry) {
  Params p;
  BindAudit(p, entry);
  audit_head_.reset();
  // Nothing reads an entry back before the commit but the head kept here,
  // so it travels with the next round trip when the writer defers writes.
  RETURN_IF_ERROR(
      conn_->writes_deferred()
          ? conn_->DeferWrite(Sql::kAppendAudit, p, kAppendAuditCtx)
          : conn_->ExecGuarded(Sql::kAppendAudit, p, kAppendAuditCtx).status());
  audit_head_ = entry;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Payments: cycles, lines, payments, reconciliation.
//
// Isolation, and why it is enough (pg_store.cc sets it up):
// - Writes (InsertCycle, UpdateCycle, InsertPayment) run in the writers'
//   SERIALIZABLE transaction, after the writers' lock: the payroll's
//   INSERT ... SELECT reads the enrolments that no other socle writer can
//   change until it commits, so the lines and the totals frozen with them
//   are exactly the enrolments as of opening; the payment logic's
//   check-then-insert (key not used yet, line not paid in full, payment not
//   reversed yet) sees every earlier payment of every replica. What the
//   logic cannot see (a writer outside socle, or a race the lock would not
//   cover) is still refused by the schema: the unique idempotency key
//   (ALREADY_EXISTS), the unique partial index on reversal_of (a payment is
//   reversed at most once: ALREADY_EXISTS), the foreign keys
//   (FAILED_PRECONDITION), or SERIALIZABLE itself (40001: the group is run
//   again by the store, as Store::Write allows).
// - Reads (lines, payments, reconciliation) run in REPEATABLE READ READ
//   ONLY: the lines and the payments of one ReconcilePeriod come from the
//   same snapshot, so its totals balance to the unit even while payments are
//   being recorded; the keyset pages of a listing may come from different
//   snapshots, and their cursors (ids, (cycle, enrolment)) stay valid
//   because nothing is ever updated or deleted.

namespace {

constexpr ErrorContext kInsertCycleCtx{
    "open cycle", "the programme already has a cycle for this period"};
constexpr ErrorContext kUpdateCycleCtx{"update cycle"};
constexpr ErrorContext kReadCycleCtx{"read cycles"};
constexpr ErrorContext kReadLineCtx{"read lines"};
constexpr ErrorContext kInsertPaymentCtx{
    "record payment",
    "idempotency key already used, or payment already reversed",
    "cycle, line, person or reversed payment does not exist"};
constexpr ErrorContext kReadPaymentCtx{"read payments"};
constexpr ErrorContext kReconcileCtx{"reconcile period"};

// The cycle columns of SOCLE_PG_CYCLE_COLUMNS (0..7).
void ReadCycle(const Row& r, CycleRecord* c) {
  c->id = r.Int8(0);
  Assign(&c->programme_code, r.Bytes(1));
  Assign(&c->period, r.Bytes(2));
  c->status = r.Int4(3);
  c->opened_at = r.Time(4);
  Assign(&c->opened_by, r.Bytes(5));
  if (r.IsNull(6)) {
    c->closed_at.reset();
  } else {
    c->closed_at = r.Time(6);
  }
  Assign(&c->closed_by, r.Bytes(7));
  c->totals.clear();
}

// A total at columns `col`.. (currency, lines, owed), when not NULL (a
// cycle without lines has no total).
void ReadTotal(const Row& r, int col, CycleRecord* c) {
  if (r.IsNull(col)) return;
  CycleTotal& t = c->totals.emplace_back();
  Assign(&t.currency, r.Bytes(col));
  t.lines = r.Int8(col + 1);
  t.owed_minor = r.Int8(col + 2);
}

void ReadLine(const Row& r, LineRecord* l) {
  l->id = r.Int8(0);
  l->cycle_id = r.Int8(1);
  l->enrolment_id = r.Int8(2);
  l->person_id = r.Int8(3);
  Assign(&l->programme_code, r.Bytes(4));
  Assign(&l->office_code, r.Bytes(5));
  l->amount_minor = r.Int8(6);
  Assign(&l->currency, r.Bytes(7));
  l->payment_count = r.Int8(8);
  l->paid_minor = r.Int8(9);
}

void ReadPayment(const Row& r, PaymentRecord* p) {
  p->id = r.Int8(0);
  Assign(&p->idempotency_key, r.Bytes(1));  // NULL reads as ""
  p->cycle_id = r.Int8(2);
  p->line_id = r.Int8(3);
  p->person_id = r.Int8(4);
  Assign(&p->programme_code, r.Bytes(5));
  Assign(&p->period, r.Bytes(6));
  Assign(&p->office_code, r.Bytes(7));
  p->amount_minor = r.Int8(8);
  Assign(&p->currency, r.Bytes(9));
  p->channel = r.Int4(10);
  Assign(&p->provider_reference, r.Bytes(11));
  p->paid_at = r.Time(12);
  p->supplement = r.Bool(13);
  Assign(&p->note, r.Bytes(14));
  p->recorded_at = r.Time(15);
  Assign(&p->recorded_by, r.Bytes(16));
  p->reversal_of = r.Int8(17);
  Assign(&p->reversal_reason, r.Bytes(18));
  p->reversed_by = r.Int8(19);
}
constexpr int kPaymentColumnCount = 20;

// Adds $1..$3 of the period statements.
void BindPeriod(Params& p, const PeriodFilter& f) {
  p.Text(f.period);
  p.Text(f.office_code);
  p.Text(f.programme_code);
}

}  // namespace

absl::StatusOr<std::vector<CycleRecord>> PgTxn::Cycles(Sql id,
                                                       const Params& params) {
  ASSIGN_OR_RETURN(Result r, conn_->Exec(id, params, kReadCycleCtx));
  // One row per (cycle, total), the rows of a cycle together.
  std::vector<CycleRecord> out;
  const int n = PQntuples(r.get());
  for (int i = 0; i < n; ++i) {
    Row row(r.get(), i);
    if (out.empty() || out.back().id != row.Int8(0)) {
      ReadCycle(row, &out.emplace_back());
    }
    ReadTotal(row, 8, &out.back());
    if (!row.ok()) return Unexpected();
  }
  return out;
}

absl::StatusOr<std::vector<LineRecord>> PgTxn::Lines(Sql id,
                                                     const Params& params) {
  ASSIGN_OR_RETURN(Result r, conn_->Exec(id, params, kReadLineCtx));
  return ReadAll<LineRecord>(r, ReadLine);
}

absl::StatusOr<std::vector<PaymentRecord>> PgTxn::Payments(
    Sql id, const Params& params) {
  ASSIGN_OR_RETURN(Result r, conn_->Exec(id, params, kReadPaymentCtx));
  return ReadAll<PaymentRecord>(r, ReadPayment);
}

absl::StatusOr<CycleRecord> PgTxn::GetCycle(int64_t id) {
  if (auto kept = cycles_.find(id); kept != cycles_.end()) {
    checked_.cycle_found = id;
    return kept->second;
  }
  Params p;
  p.Int8(id);
  ASSIGN_OR_RETURN(std::vector<CycleRecord> found, Cycles(Sql::kGetCycle, p));
  if (found.empty()) return absl::NotFoundError("cycle not found");
  cycles_[id] = found.front();
  checked_.cycle_found = id;
  return std::move(found.front());
}

absl::StatusOr<CycleRecord> PgTxn::FindCycle(absl::string_view programme_code,
                                             absl::string_view period) {
  Params p;
  p.Text(programme_code);
  p.Text(period);
  ASSIGN_OR_RETURN(std::vector<CycleRecord> found, Cycles(Sql::kFindCycle, p));
  if (found.empty()) return absl::NotFoundError("cycle not found");
  checked_.cycle_found = found.front().id;
  return std::move(found.front());
}

absl::StatusOr<std::vector<CycleRecord>> PgTxn::ListCycles(
    absl::string_view programme_code, absl::string_view period, int status,
    int64_t before_id, int limit) {
  if (limit <= 0) return std::vector<CycleRecord>();
  Params p;
  p.Text(programme_code);
  p.Text(period);
  p.Int4(status);
  p.Int8(before_id > 0 ? before_id : std::numeric_limits<int64_t>::max());
  p.Int8(limit);
  return Cycles(Sql::kListCycles, p);
}

absl::StatusOr<LineRecord> PgTxn::GetLine(int64_t id) {
  Params p;
  p.Int8(id);
  ASSIGN_OR_RETURN(Result r, conn_->Exec(Sql::kGetLine, p, kReadLineCtx));
  ASSIGN_OR_RETURN(LineRecord line, ReadOne<LineRecord>(r, ReadLine, "line not found"));
  checked_.line_found = line.id;
  return line;
}

absl::StatusOr<LineRecord> PgTxn::GetLineByEnrolment(int64_t cycle_id,
                                                     int64_t enrolment_id) {
  Params p;
  p.Int8(cycle_id);
  p.Int8(enrolment_id);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kGetLineByEnrolment, p, kReadLineCtx));
  ASSIGN_OR_RETURN(LineRecord line, ReadOne<LineRecord>(r, ReadLine, "line not found"));
  checked_.line_found = line.id;
  return line;
}

absl::StatusOr<std::vector<LineRecord>> PgTxn::ListLines(
    int64_t cycle_id, absl::string_view office_code,
    int64_t after_enrolment_id, int limit) {
  if (limit <= 0) return std::vector<LineRecord>();
  Params p;
  p.Int8(cycle_id);
  p.Int8(after_enrolment_id);
  p.Int8(limit);
  if (office_code.empty()) return Lines(Sql::kListLines, p);
  p.Text(office_code);
  return Lines(Sql::kListLinesByOffice, p);
}

absl::StatusOr<PaymentRecord> PgTxn::GetPayment(int64_t id) {
  Params p;
  p.Int8(id);
  ASSIGN_OR_RETURN(Result r, conn_->Exec(Sql::kGetPayment, p, kReadPaymentCtx));
  return ReadOne<PaymentRecord>(r, ReadPayment, "payment not found");
}

absl::StatusOr<PaymentRecord> PgTxn::GetPaymentByKey(
    absl::string_view idempotency_key) {
  // Reversal entries have no key (NULL): "" names no payment.
  if (idempotency_key.empty()) return absl::NotFoundError("payment not found");
  Params p;
  p.Text(idempotency_key);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kGetPaymentByKey, p, kReadPaymentCtx));
  absl::StatusOr<PaymentRecord> payment =
      ReadOne<PaymentRecord>(r, ReadPayment, "payment not found");
  if (absl::IsNotFound(payment.status())) {
    checked_.payment_key_absent = std::string(idempotency_key);
  }
  return payment;
}

absl::StatusOr<std::vector<PaymentRecord>> PgTxn::ListPaymentsByLine(
    int64_t line_id) {
  Params p;
  p.Int8(line_id);
  return Payments(Sql::kListPaymentsByLine, p);
}

absl::StatusOr<std::vector<ReconciliationTotals>> PgTxn::ReconcilePeriod(
    const PeriodFilter& filter) {
  Params p;
  BindPeriod(p, filter);
  p.Date(filter.first_day, "first_day");
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kReconcilePeriod, p, kReconcileCtx));
  return ReadAll<ReconciliationTotals>(
      r, [](const Row& row, ReconciliationTotals* t) {
        Assign(&t->office_code, row.Bytes(0));
        Assign(&t->programme_code, row.Bytes(1));
        Assign(&t->currency, row.Bytes(2));
        t->lines = row.Int8(3);
        t->owed_minor = row.Int8(4);
        t->payments = row.Int8(5);
        t->paid_minor = row.Int8(6);
        t->reversed_minor = row.Int8(7);
        t->outstanding_minor = row.Int8(8);
        t->excess_minor = row.Int8(9);
        t->paid_in_full = row.Int8(10);
        t->unpaid = row.Int8(11);
        t->underpaid = row.Int8(12);
        t->overpaid = row.Int8(13);
        t->paid_twice = row.Int8(14);
        t->paid_after_death = row.Int8(15);
        t->paid_without_entitlement = row.Int8(16);
      });
}

absl::StatusOr<std::vector<LineRecord>> PgTxn::ListUnbalancedLines(
    const PeriodFilter& filter, std::optional<LineCursor> after, int limit) {
  if (limit <= 0) return std::vector<LineRecord>();
  Params p;
  BindPeriod(p, filter);
  p.Int8(after ? after->cycle_id : 0);
  p.Int8(after ? after->enrolment_id : 0);
  p.Int8(limit);
  return Lines(Sql::kListUnbalancedLines, p);
}

absl::StatusOr<std::vector<EffectivePayment>> PgTxn::ListIrregularPayments(
    const PeriodFilter& filter, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<EffectivePayment>();
  Params p;
  BindPeriod(p, filter);
  p.Date(filter.first_day, "first_day");
  p.Int8(after_id);
  p.Int8(limit);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kListIrregularPayments, p, kReadPaymentCtx));
  return ReadAll<EffectivePayment>(r, [](const Row& row, EffectivePayment* e) {
    ReadPayment(row, &e->payment);
    if (row.IsNull(kPaymentColumnCount)) {
      e->date_of_death.reset();
    } else {
      e->date_of_death = row.Date(kPaymentColumnCount);
    }
  });
}

absl::StatusOr<std::vector<PaymentRecord>> PgTxn::ListReferencedPayments(
    const PeriodFilter& filter, int channel, int64_t after_id, int limit) {
  if (limit <= 0) return std::vector<PaymentRecord>();
  Params p;
  BindPeriod(p, filter);
  p.Int4(channel);
  p.Int8(after_id);
  p.Int8(limit);
  return Payments(Sql::kListReferencedPayments, p);
}

absl::StatusOr<CycleRecord> PgTxn::InsertCycle(const CycleRecord& cycle,
                                               absl::CivilDay first_day,
                                               absl::CivilDay last_day) {
  Params p;
  p.Text(cycle.programme_code);
  p.Text(cycle.period);
  p.Int4(cycle.status);
  p.Time(cycle.opened_at, "opened_at");
  p.Text(cycle.opened_by);
  if (cycle.closed_at) {
    p.Time(*cycle.closed_at, "closed_at");
  } else {
    p.Null();
  }
  p.Text(cycle.closed_by);
  p.Date(first_day, "first_day");
  p.Date(last_day, "last_day");
  // Guarded: a cycle already open for the period leaves the transaction
  // usable (ALREADY_EXISTS), and no line of the failed statement is kept.
  cycles_.clear();
  ASSIGN_OR_RETURN(Result r,
                   conn_->ExecGuarded(Sql::kInsertCycle, p, kInsertCycleCtx));
  const int n = PQntuples(r.get());
  if (n < 1) return Unexpected();
  CycleRecord out = cycle;
  out.totals.clear();
  for (int i = 0; i < n; ++i) {
    Row row(r.get(), i);
    out.id = row.Int8(0);
    ReadTotal(row, 1, &out);
    if (!row.ok()) return Unexpected();
  }
  return out;
}

absl::Status PgTxn::UpdateCycle(const CycleRecord& cycle) {
  Params p;
  p.Int8(cycle.id);
  p.Int4(cycle.status);
  if (cycle.closed_at) {
    p.Time(*cycle.closed_at, "closed_at");
  } else {
    p.Null();
  }
  p.Text(cycle.closed_by);
  cycles_.clear();
  return ChangeOne(Sql::kUpdateCycle, p, kUpdateCycleCtx, "cycle not found");
}

absl::StatusOr<int64_t> PgTxn::InsertPayment(const PaymentRecord& payment) {
  Params p;
  p.TextOrNull(payment.idempotency_key);
  p.Int8(payment.cycle_id);
  if (payment.line_id != 0) {
    p.Int8(payment.line_id);
  } else {
    p.Null();
  }
  p.Int8(payment.person_id);
  p.Text(payment.programme_code);
  p.Text(payment.period);
  p.Text(payment.office_code);
  p.Int8(payment.amount_minor);
  p.Text(payment.currency);
  p.Int4(payment.channel);
  p.Text(payment.provider_reference);
  p.Time(payment.paid_at, "paid_at");
  p.Bool(payment.supplement);
  p.Text(payment.note);
  p.Time(payment.recorded_at, "recorded_at");
  p.Text(payment.recorded_by);
  if (payment.reversal_of != 0) {
    p.Int8(payment.reversal_of);
  } else {
    p.Null();
  }
  p.Text(payment.reversal_reason);
  // As InsertPerson: deferred when the reads ruled out its failures (a
  // taken key, a payment reversed twice, a missing cycle, line or person).
  const bool checked =
      !payment.idempotency_key.empty() &&
      payment.idempotency_key == checked_.payment_key_absent &&
      payment.reversal_of == 0 && payment.cycle_id == checked_.cycle_found &&
      (payment.line_id == 0 || payment.line_id == checked_.line_found) &&
      payment.person_id == checked_.person_found;
  checked_.payment_key_absent.clear();
  if (conn_->writes_deferred() && checked) {
    ASSIGN_OR_RETURN(const int64_t id, NextId(Sql::kNextPaymentId, kInsertPaymentCtx));
    p.Int8(id);
    RETURN_IF_ERROR(conn_->DeferWrite(Sql::kInsertCheckedPayment, p, kInsertPaymentCtx));
    return id;
  }
  // No row: the cycle, the line or the person is missing, as a foreign key
  // would have said.
  return InsertReturningId(Sql::kInsertPayment, p, kInsertPaymentCtx,
                           /*none_inserted=*/kInsertPaymentCtx.foreign_key);
}

void PgTxn::Prefetch(const Lookahead& ahead) {
  // Each lookup bound exactly as the method that will ask for it binds it
  // (Connection::Exec matches statement and parameters). A failure shows
  // at the next statement: the transaction is then aborted, or the
  // connection lost.
  auto by_text = [this](Sql sql, absl::string_view key, const ErrorContext& context) {
    if (key.empty()) return;
    Params p;
    p.Text(key);
    (void)conn_->QueueAhead(sql, p, context);
  };
  auto by_id = [this](Sql sql, int64_t id, const ErrorContext& context) {
    if (id == 0) return;
    Params p;
    p.Int8(id);
    (void)conn_->QueueAhead(sql, p, context);
  };
  by_text(Sql::kGetRequest, ahead.request_id, kReadRequestCtx);
  if (!ahead.national_id.empty()) {
    std::string index;
    Params p;
    BindNationalIdLookup(p, *keys_, ahead.national_id, index);
    (void)conn_->QueueAhead(Sql::kGetPersonByNationalId, p, kReadPersonCtx);
  }
  if (const auto& key = ahead.duplicates; key && StorableDate(key->date_of_birth)) {
    Params p;
    BindDuplicateKey(p, key->name_key, key->date_of_birth, key->district_key);
    (void)conn_->QueueAhead(Sql::kFindDuplicates, p, kReadPersonCtx);
  }
  by_text(Sql::kGetPaymentByKey, ahead.payment_key, kReadPaymentCtx);
  by_id(Sql::kGetLine, ahead.line_id, kReadLineCtx);
  by_id(Sql::kGetPersonOfLine, ahead.person_of_line, kReadPersonCtx);
  person_of_line_ = ahead.person_of_line;  // taken by GetPerson
  by_id(Sql::kGetPerson, ahead.person_id, kReadPersonCtx);
  by_id(Sql::kGetMembership, ahead.membership_of, kReadMemberCtx);
  by_id(Sql::kListEnrolmentsByPerson, ahead.enrolments_of, kReadEnrolmentCtx);
  // Ids are drawn ahead only by the writer's group (never on a reader, whose
  // transaction is read-only), and for payments only when the insert may
  // be deferred: otherwise it draws its own as it runs.
  if (ahead.inserts_person && conn_->writes_deferred()) {
    (void)conn_->QueueAhead(Sql::kNextPersonId, Params(), kInsertPersonCtx);
  }
  if (ahead.inserts_payment && conn_->writes_deferred()) {
    (void)conn_->QueueAhead(Sql::kNextPaymentId, Params(), kInsertPaymentCtx);
  }
  const bool head = ahead.appends_audit && !audit_head_;
  if (head) (void)conn_->QueueAhead(Sql::kLastAudit, Params(), kReadAuditCtx);
  if (!conn_->SendAhead().ok()) return;
  // Kept at once (audit_head_), since the writes before the append would
  // drop the answer: the head changes only by the transaction's appends.
  if (head) (void)LastAudit();
}

}  // namespace socle::storage::pg_internal

namespace socle::storage::pg_internal {

// Key rotation: see Txn::ResealPersons. Runs in the caller's Write (one
// transaction per batch, under the writers' lock like every group).
absl::StatusOr<ResealBatch> PgTxn::ResealPersons(int64_t after_id, int limit) {
  checked_.national_id_absent.clear();
  ResealBatch batch;
  batch.last_person_id = after_id;
  Params p;
  p.Int8(after_id);
  p.Int8(limit);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kListPersonsToReseal, p, kReadPersonCtx));
  const int n = PQntuples(r.get());
  batch.scanned = n;
  for (int i = 0; i < n; ++i) {
    Row row(r.get(), i);
    PersonRecord person;
    person.id = row.Int8(0);
    batch.last_person_id = person.id;
    bool stale = true;
    if (!row.Bool(4)) {  // plaintext, from before migration 5
      Assign(&person.national_id, row.Bytes(1));
      Assign(&person.facts, row.Bytes(3));
    } else {
      stale = UnderOldKey(*keys_, row.Bytes(3)) ||
              (!row.IsNull(2) && UnderOldKey(*keys_, row.Bytes(2)));
      if (stale) {
        RETURN_IF_ERROR(OpenPerson(*keys_, row.Bytes(2), row.Bytes(3), &person));
      }
    }
    if (!row.ok()) return Unexpected();
    if (!stale) continue;
    const SealedPerson sealed =
        SealPerson(*keys_, person.id, person.national_id, person.facts);
    Params u;
    u.Int8(person.id);
    u.TextOrNull(sealed.national_id);
    u.TextOrNull(sealed.national_id_index);
    u.Bytea(sealed.facts);
    RETURN_IF_ERROR(ChangeOne(Sql::kResealPerson, u, kUpdatePersonCtx,
                              "person not found"));
    ++batch.resealed;
  }
  return batch;
}

absl::StatusOr<ResealBatch> PgTxn::ResealRequests(
    absl::string_view after_request_id, int limit) {
  ResealBatch batch;
  batch.last_request_id = std::string(after_request_id);
  Params p;
  p.Text(after_request_id);
  p.Int8(limit);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kListRequestsToReseal, p, kReadRequestCtx));
  const int n = PQntuples(r.get());
  batch.scanned = n;
  for (int i = 0; i < n; ++i) {
    Row row(r.get(), i);
    RequestRecord request;
    Assign(&request.request_id, row.Bytes(0));
    batch.last_request_id = request.request_id;
    bool stale = true;
    if (!row.Bool(3)) {  // plaintext, from before migration 5
      Assign(&request.request, row.Bytes(1));
      Assign(&request.response, row.Bytes(2));
    } else {
      stale = UnderOldKey(*keys_, row.Bytes(1)) || UnderOldKey(*keys_, row.Bytes(2));
      if (stale) {
        RETURN_IF_ERROR(OpenRequest(*keys_, row.Bytes(1), row.Bytes(2), &request));
      }
    }
    if (!row.ok()) return Unexpected();
    if (!stale) continue;
    const SealedRequest sealed = SealRequest(*keys_, request);
    Params u;
    u.Text(request.request_id);
    u.Bytea(sealed.request);
    u.Bytea(sealed.response);
    RETURN_IF_ERROR(ChangeOne(Sql::kResealRequest, u, kPutRequestCtx,
                              "request id not found"));
    ++batch.resealed;
  }
  return batch;
}

absl::StatusOr<ResealBatch> PgTxn::ResealLifeEvents(int64_t after_id, int limit) {
  ResealBatch batch;
  batch.last_event_id = after_id;
  Params p;
  p.Int8(after_id);
  p.Int8(limit);
  ASSIGN_OR_RETURN(Result r,
                   conn_->Exec(Sql::kListEventsToReseal, p, kReadEventCtx));
  const int n = PQntuples(r.get());
  batch.scanned = n;
  for (int i = 0; i < n; ++i) {
    Row row(r.get(), i);
    const int64_t id = row.Int8(0);
    batch.last_event_id = id;
    std::string details;
    if (!row.Bool(2)) {  // plaintext, from before migration 5
      Assign(&details, row.Bytes(1));
    } else if (UnderOldKey(*keys_, row.Bytes(1))) {
      ASSIGN_OR_RETURN(details, OpenEventDetails(*keys_, id, row.Bytes(1)));
    } else {
      continue;
    }
    if (!row.ok()) return Unexpected();
    const std::string sealed = SealEventDetails(*keys_, id, details);
    Params u;
    u.Int8(id);
    u.Bytea(sealed);
    RETURN_IF_ERROR(ChangeOne(Sql::kResealEvent, u, kInsertEventCtx,
                              "life event not found"));
    ++batch.resealed;
  }
  return batch;
}

}  // namespace socle::storage::pg_internal
