#include "client/cli/audit_commands.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/cli/commands.h"
#include "common/audit_chain.h"
#include "common/status_macros.h"

namespace socle::client::cli {
namespace {

using Kind = FlagSpec::Kind;

absl::StatusOr<std::string> ReadTextFile(const std::string& path, absl::string_view flag) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Bad(flag, absl::StrCat(path, " is a directory"));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return Bad(flag, absl::StrCat("cannot read ", path, ": ",
                                  err != 0 ? std::strerror(err) : "cannot open"));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return Bad(flag, absl::StrCat("cannot read ", path));
  return std::move(content).str();
}

AuditEntry FromProto(const v1::AuditEntry& e) {
  AuditEntry out;
  out.seq = e.seq();
  out.at = absl::FromUnixSeconds(e.at().seconds()) + absl::Nanoseconds(e.at().nanos());
  out.actor = e.actor();
  out.office_code = e.office_code();
  out.action = e.action();
  out.subject = e.subject();
  out.details = e.details();
  out.prev_hash = e.prev_hash();
  out.hash = e.hash();
  return out;
}

AuditCheckpoint FromProto(const v1::AuditCheckpoint& c) {
  AuditCheckpoint out;
  out.seq = c.seq();
  out.hash = c.hash();
  out.time = absl::FromUnixSeconds(c.time().seconds()) + absl::Nanoseconds(c.time().nanos());
  out.key_fingerprint = c.key_fingerprint();
  out.signature = c.signature();
  return out;
}

// A JSON string literal.
std::string Quote(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "\\u00",
                          absl::Hex(static_cast<int>(static_cast<unsigned char>(c)),
                                    absl::kZeroPad2));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

const char* BreakKindName(AuditBreak::Kind kind) {
  switch (kind) {
    case AuditBreak::kNone: return "none";
    case AuditBreak::kAltered: return "altered";
    case AuditBreak::kMissing: return "missing";
    case AuditBreak::kOutOfOrder: return "out_of_order";
    case AuditBreak::kBrokenLink: return "broken_link";
  }
  return "unknown";
}

const char* MatchKindName(CheckpointMatch::Kind kind) {
  switch (kind) {
    case CheckpointMatch::kHeld: return "held";
    case CheckpointMatch::kTruncatedTail: return "truncated_tail";
    case CheckpointMatch::kRewritten: return "rewritten";
  }
  return "unknown";
}

std::string Short(absl::string_view hash) {
  return hash.empty() ? "-" : std::string(hash.substr(0, 16));
}

// ---------------------------------------------------------------------------
// audit verify

int RunAuditVerify(Runner& r, const ParsedArgs& args) {
  std::optional<std::string> checkpoint_path = args.Get("checkpoint");
  std::optional<std::string> key_path = args.Get("public-key");
  int page_size = 0;
  if (auto v = args.Get("page-size")) {
    auto n = ToInt(*v, "--page-size", 1, 5000);
    if (!n.ok()) return r.UsageError(n.status());
    page_size = static_cast<int>(*n);
  }
  if (checkpoint_path && !key_path) {
    return r.UsageError(Bad("--public-key",
                            "is needed with --checkpoint: the checkpoint's signature is "
                            "checked against the public key you hold"));
  }
  std::optional<AuditCheckpoint> checkpoint;
  std::string public_key;
  absl::Status signature = absl::OkStatus();
  if (checkpoint_path) {
    auto text = ReadTextFile(*checkpoint_path, "--checkpoint");
    if (!text.ok()) return r.UsageError(text.status());
    auto parsed = ParseCheckpointFile(*text);
    if (!parsed.ok()) {
      return r.UsageError(
          Bad("--checkpoint", absl::StrCat(*checkpoint_path, ": ", parsed.status().message())));
    }
    checkpoint = *std::move(parsed);
    auto key = ReadTextFile(*key_path, "--public-key");
    if (!key.ok()) return r.UsageError(key.status());
    public_key = *std::move(key);
    signature = VerifyCheckpoint(*checkpoint, public_key);
    if (signature.code() == absl::StatusCode::kInvalidArgument) {
      return r.UsageError(
          Bad("--public-key", absl::StrCat(*key_path, ": ", signature.message())));
    }
  } else if (key_path) {
    auto key = ReadTextFile(*key_path, "--public-key");
    if (!key.ok()) return r.UsageError(key.status());
    auto fingerprint = PublicKeyFingerprint(*key);
    if (!fingerprint.ok()) {
      return r.UsageError(
          Bad("--public-key", absl::StrCat(*key_path, ": ", fingerprint.status().message())));
    }
  }

  SOCLE_CLIENT_OR_EXIT_(r, client);
  // The whole chain, page by page, checked here as it arrives: nothing the
  // server says about its own chain is trusted.
  AuditChainChecker checker;
  if (checkpoint) checker.Watch(checkpoint->seq);
  int64_t after_seq = 0;
  for (;;) {
    auto page = client->ListAuditChain(after_seq, page_size);
    if (!page.ok()) return r.CallError(page.status());
    for (const v1::AuditEntry& e : page->entries()) checker.Add(FromProto(e));
    if (page->end_of_chain() || page->entries().empty()) break;
    const int64_t last = page->entries().rbegin()->seq();
    if (last <= after_seq) {  // a page that does not move on would loop
      r.err() << r.program() << ": the server listed entry " << last << " after entry "
              << after_seq << "; stopping\n";
      break;
    }
    after_seq = last;
  }
  std::optional<CheckpointMatch> match;
  if (checkpoint) match = MatchCheckpoint(checker, *checkpoint);

  const bool ok = checker.intact() && signature.ok() &&
                  (!match || match->kind == CheckpointMatch::kHeld);
  if (r.json()) {
    std::string json = absl::StrCat(
        "{\"ok\":", ok ? "true" : "false", ",\"entries\":", checker.count(),
        ",\"lastSeq\":", checker.last_seq(), ",\"headHash\":", Quote(checker.last_hash()),
        ",\"intact\":", checker.intact() ? "true" : "false");
    if (!checker.intact()) {
      const AuditBreak& b = checker.first_break();
      absl::StrAppend(&json, ",\"break\":{\"seq\":", b.seq, ",\"kind\":",
                      Quote(BreakKindName(b.kind)), ",\"description\":", Quote(b.description),
                      "}");
    }
    if (checkpoint) {
      absl::StrAppend(&json, ",\"checkpoint\":{\"seq\":", checkpoint->seq,
                      ",\"hash\":", Quote(checkpoint->hash),
                      ",\"signatureValid\":", signature.ok() ? "true" : "false",
                      ",\"match\":", Quote(MatchKindName(match->kind)),
                      ",\"description\":",
                      Quote(signature.ok() ? match->description : signature.message()), "}");
    }
    r.out() << json << "}\n";
    return ok ? kExitOk : kExitRefused;
  }
  r.out() << "Audit chain: " << FormatCount(checker.count())
          << (checker.count() == 1 ? " entry" : " entries");
  if (checker.count() > 0) {
    r.out() << ", head entry " << checker.last_seq() << " (hash " << Short(checker.last_hash())
            << "...)";
  }
  r.out() << "\n";
  if (checker.intact()) {
    r.out() << "OK      every entry follows from the one before it\n";
  } else {
    const AuditBreak& b = checker.first_break();
    r.out() << "BROKEN  at entry " << b.seq << ": " << b.description << "\n";
  }
  if (checkpoint) {
    const std::string when =
        absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", checkpoint->time, absl::UTCTimeZone());
    if (signature.ok()) {
      r.out() << "OK      checkpoint signature (entry " << checkpoint->seq << ", " << when
              << ", key " << Short(checkpoint->key_fingerprint) << "...)\n";
    } else {
      r.out() << "FORGED  checkpoint " << *checkpoint_path << ": " << signature.message()
              << "\n";
    }
    if (signature.ok()) {
      r.out() << (match->kind == CheckpointMatch::kHeld ? "OK      " : "BROKEN  ")
              << match->description << "\n";
    }
  }
  return ok ? kExitOk : kExitRefused;
}

// ---------------------------------------------------------------------------
// audit checkpoint

int RunAuditCheckpoint(Runner& r, const ParsedArgs& args) {
  std::optional<std::string> out_path = args.Get("out");
  if (out_path && out_path->empty()) return r.UsageError(Bad("--out", "must not be empty"));
  SOCLE_CLIENT_OR_EXIT_(r, client);
  auto got = client->GetAuditCheckpoint();
  if (!got.ok()) return r.CallError(got.status());
  const AuditCheckpoint checkpoint = FromProto(*got);
  const std::string text = FormatCheckpointFile(checkpoint);
  if (out_path) {
    std::ofstream file(*out_path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
      return r.UsageError(Bad("--out", absl::StrCat("cannot write ", *out_path)));
    }
  }
  if (r.json()) {
    r.PrintJson(*got);
    return kExitOk;
  }
  if (!out_path) {
    r.out() << text;
    return kExitOk;
  }
  r.out() << "Saved checkpoint of entry " << checkpoint.seq << " (hash "
          << Short(checkpoint.hash) << "...) to " << *out_path << "\n"
          << "Check it later with: " << r.program() << " audit verify --checkpoint "
          << *out_path << " --public-key AUDIT_PUBLIC_KEY.pem\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------
// audit query

absl::StatusOr<v1::QueryAuditRequest> BuildQuery(const ParsedArgs& args) {
  v1::QueryAuditRequest q;
  int subjects = 0;
  if (auto v = args.Get("person")) {
    ASSIGN_OR_RETURN(std::string number, CanonicalPersonNumber(*v, "--person"));
    q.set_subject(number);
    ++subjects;
  }
  if (auto v = args.Get("household")) {
    ASSIGN_OR_RETURN(std::string number, CanonicalHouseholdNumber(*v, "--household"));
    q.set_subject(number);
    ++subjects;
  }
  if (auto v = args.Get("subject")) {
    std::string subject(absl::StripAsciiWhitespace(*v));
    if (subject.empty()) return Bad("--subject", "must not be empty");
    q.set_subject(subject);
    ++subjects;
  }
  if (subjects > 1) {
    return Bad("--person", "give one of --person, --household and --subject");
  }
  if (auto v = args.Get("user")) {
    std::string actor(absl::StripAsciiWhitespace(*v));
    if (actor.empty()) return Bad("--user", "must not be empty");
    q.set_actor_prefix(actor);
  }
  if (auto v = args.Get("office")) {
    std::string office(absl::StripAsciiWhitespace(*v));
    if (office.empty()) return Bad("--office", "must not be empty");
    q.set_office_code(office);
  }
  std::optional<absl::Time> since, until;
  if (auto v = args.Get("since")) {
    ASSIGN_OR_RETURN(since, ParseInstant(*v, "--since"));
    q.mutable_since()->set_seconds(absl::ToUnixSeconds(*since));
  }
  if (auto v = args.Get("until")) {
    ASSIGN_OR_RETURN(until, ParseInstant(*v, "--until"));
    q.mutable_until()->set_seconds(absl::ToUnixSeconds(*until));
  }
  if (since && until && *until <= *since) return Bad("--until", "must be after --since");
  ASSIGN_OR_RETURN(PageOptions page, PageFlags(args));
  q.set_page_size(page.page_size);
  q.set_page_token(page.page_token);
  return q;
}

std::string EntryAt(const v1::AuditEntry& e) {
  absl::Time t = absl::FromUnixSeconds(e.at().seconds()) + absl::Nanoseconds(e.at().nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::UTCTimeZone());
}

int RunAuditQuery(Runner& r, const ParsedArgs& args) {
  auto query = BuildQuery(args);
  if (!query.ok()) return r.UsageError(query.status());
  SOCLE_CLIENT_OR_EXIT_(r, client);
  bool header = false;
  return Paged<v1::QueryAuditResponse>(
      r, args, query->page_token(),
      [&](const std::string& token) {
        v1::QueryAuditRequest q = *query;
        q.set_page_token(token);
        return client->QueryAudit(q);
      },
      [&](const v1::QueryAuditResponse& page) -> size_t {
        if (r.json()) return page.entries_size();
        if (!header && page.entries_size() > 0) {
          r.out() << "SEQ  AT (UTC)  ACTOR  OFFICE  ACTION  SUBJECT  DETAILS\n";
          header = true;
        }
        for (const v1::AuditEntry& e : page.entries()) {
          r.out() << e.seq() << "  " << EntryAt(e) << "  " << e.actor() << "  "
                  << (e.office_code().empty() ? "-" : e.office_code()) << "  " << e.action()
                  << "  " << GroupNumber(e.subject()) << "  " << e.details() << "\n";
        }
        return page.entries_size();
      },
      "No audit entry matches.");
}

}  // namespace

absl::StatusOr<absl::Time> ParseInstant(absl::string_view text, absl::string_view flag) {
  std::string t(absl::StripAsciiWhitespace(text));
  absl::Time out;
  std::string error;
  if (t.size() == 10 && absl::ParseTime("%Y-%m-%d", t, absl::UTCTimeZone(), &out, &error)) {
    return out;
  }
  if (absl::ParseTime(absl::RFC3339_full, t, &out, &error)) return out;
  return Bad(flag, "must be a date YYYY-MM-DD (midnight UTC) or an instant "
                   "YYYY-MM-DDTHH:MM:SSZ");
}

std::vector<CommandSpec>* WithAdminAuditCommands(std::vector<CommandSpec>* commands) {
  commands->push_back(
      {"audit verify", "audit verify [--checkpoint FILE --public-key FILE]", "",
       "re-check the audit chain",
       "Reads the whole audit chain and recomputes every entry's hash here,\n"
       "trusting nothing the server says about it. Reports the first entry\n"
       "altered, removed, inserted or moved (its seq and what is wrong).\n"
       "With --checkpoint (saved earlier by `audit checkpoint`) and the\n"
       "server's audit public key: checks the checkpoint's signature, and\n"
       "that its entry is still there with the same hash (else a truncated\n"
       "tail or rewritten history). Exit code 0 when everything holds, 4\n"
       "when something does not.",
       {{"checkpoint", Kind::kValue, "FILE", "a checkpoint saved earlier"},
        {"public-key", Kind::kValue, "FILE",
         "the server's audit public key (PEM) you hold"},
        {"page-size", Kind::kValue, "N", "entries per call, 1-5000 (default 1000)"}},
       0, 0, &RunAuditVerify});
  commands->push_back(
      {"audit checkpoint", "audit checkpoint [--out FILE]", "",
       "save a signed checkpoint",
       "Asks the server for its audit chain's head (seq and hash), signed\n"
       "with its audit key, and saves it as a text file (printed without\n"
       "--out). Keep it away from the server: `audit verify --checkpoint`\n"
       "later proves that no entry up to it was removed or rewritten.",
       {{"out", Kind::kValue, "FILE", "where to save the checkpoint"}}, 0, 0,
       &RunAuditCheckpoint});
  commands->push_back(
      {"audit query",
       "audit query [--person N | --household N | --subject S]\n"
       "                               [--user ACTOR] [--office CODE]\n"
       "                               [--since T] [--until T] [--all]",
       "", "audit entries by subject, actor, office, time",
       "Lists audit entries, oldest first, matching every condition given:\n"
       "the subject (a person's beneficiary number, a household number, or\n"
       "any subject such as E12 or C3), the actor (a certificate identity\n"
       "or its beginning: --user terminal:KH-SR-03: for every terminal of\n"
       "an office), the office, and a time range (--since included,\n"
       "--until excluded; a date means midnight UTC).",
       {{"person", Kind::kNumber, "NUMBER", "a person's beneficiary number"},
        {"household", Kind::kNumber, "NUMBER", "a household number (H...)"},
        {"subject", Kind::kValue, "S", "any subject, exactly"},
        {"user", Kind::kValue, "ACTOR", "actors starting with this"},
        {"office", Kind::kValue, "CODE", "one office"},
        {"since", Kind::kValue, "T", "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"},
        {"until", Kind::kValue, "T", "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"},
        {"page-size", Kind::kValue, "N", "entries per page, 1-500 (default 100)"},
        {"page-token", Kind::kValue, "T", "the page after a previous one"},
        {"all", Kind::kSwitch, "", "every page"}},
       0, 0, &RunAuditQuery});
  return commands;
}

}  // namespace socle::client::cli
