#include "server/access/principals.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/validation.h"
#include "socle/v1/access.pb.h"

namespace socle {
namespace {

namespace pb = google::protobuf;

class Collector : public pb::io::ErrorCollector {
 public:
  explicit Collector(std::vector<std::string>* errors) : errors_(errors) {}
  void AddError(int line, pb::io::ColumnNumber column,
                const std::string& message) override {
    errors_->push_back(absl::StrCat(line + 1, ":", column + 1, ": ", message));
  }

 private:
  std::vector<std::string>* errors_;
};

}  // namespace

absl::StatusOr<Principals> Principals::Parse(absl::string_view text,
                                             const std::string& file_name) {
  std::vector<std::string> errors;
  Collector collector(&errors);
  pb::TextFormat::ParseInfoTree tree;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&tree);
  v1::PrincipalsFile parsed;
  if (!parser.ParseFromString(std::string(text), &parsed)) {
    if (errors.empty()) errors.push_back("could not be parsed");
  }
  const pb::FieldDescriptor* list =
      v1::PrincipalsFile::descriptor()->FindFieldByName("principals");
  absl::flat_hash_set<std::string> seen;
  Principals out;
  for (int i = 0; errors.empty() && i < parsed.principals_size(); ++i) {
    const v1::Principal& p = parsed.principals(i);
    const int line = tree.GetLocation(list, i).line + 1;
    auto problem = [&](absl::string_view field, absl::string_view what) {
      errors.push_back(absl::StrCat(line, ": principals[", i, "].", field, ": ", what));
    };
    PrincipalEntry e;
    e.certificate = p.certificate();
    if (absl::EndsWith(e.certificate, "*")) {
      e.prefix = true;
      e.certificate.pop_back();
    }
    if (e.certificate.empty()) {
      problem("certificate", "must name a certificate common name or a prefix ending in '*'");
    } else if (e.certificate.find('*') != std::string::npos) {
      problem("certificate", "'*' is allowed only at the end");
    } else if (!seen.insert(p.certificate()).second) {
      problem("certificate", "listed twice");
    }
    switch (p.kind_case()) {
      case v1::Principal::kTerminalOffice:
        e.terminal_office = p.terminal_office();
        if (!IsValidOfficeCode(e.terminal_office)) {
          problem("terminal_office", "is not an office code (e.g. KH-SR-03)");
        }
        break;
      case v1::Principal::kTerminalOfficeFromCertificate:
        e.office_from_certificate = p.terminal_office_from_certificate();
        if (!e.office_from_certificate) problem("terminal_office_from_certificate", "must be true");
        break;
      case v1::Principal::kRole:
        e.role = static_cast<Role>(p.role());
        if (e.role != Role::kMinistry && e.role != Role::kStatistics &&
            e.role != Role::kAuditor && e.role != Role::kAdmin) {
          problem("role",
                  "must be ROLE_MINISTRY, ROLE_STATISTICS, ROLE_AUDITOR or ROLE_ADMIN "
                  "(clerks and supervisors are users who log in at a terminal)");
        }
        break;
      default:
        problem("kind", "set terminal_office or role");
    }
    if (e.prefix) {
      out.prefix_lengths_.push_back(e.certificate.size());
      out.prefixes_.emplace(e.certificate, std::move(e));
    } else {
      out.exact_.emplace(e.certificate, std::move(e));
    }
  }
  std::sort(out.prefix_lengths_.begin(), out.prefix_lengths_.end(), std::greater<>());
  out.prefix_lengths_.erase(std::unique(out.prefix_lengths_.begin(), out.prefix_lengths_.end()),
                            out.prefix_lengths_.end());
  if (errors.empty() && out.exact_.empty() && out.prefixes_.empty()) {
    errors.push_back("names no principal: nobody could connect");
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "principals file ", file_name, ":", absl::StrJoin(errors, "; ")));
  }
  return out;
}

absl::StatusOr<Principals> Principals::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read --principals file ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return Parse(buffer.str(), path);
}

const PrincipalEntry* Principals::Find(absl::string_view cn) const {
  if (auto it = exact_.find(cn); it != exact_.end()) return &it->second;
  for (size_t length : prefix_lengths_) {
    if (length > cn.size()) continue;
    if (auto it = prefixes_.find(cn.substr(0, length)); it != prefixes_.end()) {
      return &it->second;
    }
  }
  return nullptr;
}

}  // namespace socle
