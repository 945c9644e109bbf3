// Internal to client/cli/: importing persons from a CSV file with
// RegisterPersons, `socle import` (clerks and supervisors, their office) and
// `socle-admin import` (administrators, any office). The command tables of
// socle and socle-admin append these.
//
// The file is checked whole before anything is sent. Persons go in batches
// whose request ids derive from the caller's certificate, the file's bytes
// and the batch position (ImportRequestId), so that running the same import
// again from the same terminal after an interruption replays the batches
// already registered instead of registering anyone twice.
#ifndef SOCLE_CLIENT_CLI_IMPORT_COMMANDS_H_
#define SOCLE_CLIENT_CLI_IMPORT_COMMANDS_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/cli/commands.h"
#include "client/cli/tool.h"
#include "socle/v1/registry.pb.h"

namespace socle::client::cli {

// Appends `import` to socle's commands / socle-admin's commands.
std::vector<CommandSpec>* WithClerkImportCommands(std::vector<CommandSpec>* commands);
std::vector<CommandSpec>* WithAdminImportCommands(std::vector<CommandSpec>* commands);

inline constexpr int kDefaultImportBatchSize = 2000;
inline constexpr int kMaxImportBatchSize = 10000;
// A batch is also cut before its request would pass this many bytes (the
// server accepts 4 MiB).
inline constexpr size_t kMaxImportBatchBytes = 3 * 1024 * 1024;

// One person of the file and the line it came from (1 is the header).
struct ImportRow {
  int line = 0;
  v1::PersonToRegister person;
};

struct ImportOptions {
  // Used for monthly_income when the row has no currency column value.
  std::string default_currency;
  // Used for office_code when the row has none.
  std::string default_office;
  // socle-admin: every person must name its office.
  bool office_required = false;
};

// The persons of a CSV file, or every problem found ("FILE:LINE: column:
// what is wrong"; `rows` is then meaningless). The first line names the
// columns (case, spaces and dashes ignored: "Date of birth" is
// date_of_birth); the value of each column goes through the same mapping as
// the `register` command's flags (BuildRegister). Empty cells are not given;
// blank lines are skipped; a UTF-8 byte order mark is ignored.
struct ParsedImport {
  std::vector<ImportRow> rows;
  std::vector<std::string> problems;
};
ParsedImport ParsePersonsCsv(absl::string_view text, absl::string_view file_name,
                             const ImportOptions& options);

// The columns an import file may have, required ones first; and the
// `register` flag each one is given as.
const std::vector<std::pair<std::string, std::string>>& ImportColumns();

// The first 16 hex digits of the SHA-256 of `caller` (the bytes of the
// caller's certificate; empty when it has none) followed by the file's
// bytes. Request ids are kept by the server for everyone, so the same file
// imported from two terminals must not share them: the second would be
// answered with the first's numbers, from another office.
std::string ImportFingerprint(absl::string_view file_bytes, absl::string_view caller = "");
// "import-<fingerprint>-<batch_size>-<batch_index>".
std::string ImportRequestId(absl::string_view fingerprint, int batch_size, int batch_index);

// [begin, end) ranges of `rows`: at most `batch_size` persons each, and at
// most `max_bytes` of request. Deterministic for the same rows.
std::vector<std::pair<size_t, size_t>> SplitIntoBatches(const std::vector<ImportRow>& rows,
                                                        int batch_size, size_t max_bytes);

}  // namespace socle::client::cli

#endif  // SOCLE_CLIENT_CLI_IMPORT_COMMANDS_H_
