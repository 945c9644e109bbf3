#include "client/cli/args.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace socle::client::cli {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

bool ParsedArgs::Has(absl::string_view name) const {
  return values.find(std::string(name)) != values.end();
}

std::optional<std::string> ParsedArgs::Get(absl::string_view name) const {
  auto it = values.find(std::string(name));
  if (it == values.end()) return std::nullopt;
  return it->second;
}

bool ParsedArgs::Switch(absl::string_view name) const {
  auto v = Get(name);
  return v.has_value() && *v == "true";
}

std::vector<std::string> ParsedArgs::GetAll(absl::string_view name) const {
  auto it = lists.find(std::string(name));
  if (it == lists.end()) return {};
  return it->second;
}

std::string FlagName(absl::string_view token) {
  if (!absl::StartsWith(token, "-") || token == "-" || token == "--") return "";
  // A negative number is a value, not a flag.
  if (token.size() > 1 && absl::ascii_isdigit(static_cast<unsigned char>(token[1]))) {
    return "";
  }
  absl::string_view body = token.substr(token[1] == '-' ? 2 : 1);
  return NormalizeFlagName(body.substr(0, body.find('=')));
}

std::string NormalizeFlagName(absl::string_view name) {
  std::string out = absl::AsciiStrToLower(name);
  for (char& c : out) {
    if (c == '_') c = '-';
  }
  return out;
}

bool IsFirstNumberGroup(absl::string_view token) {
  if (!token.empty() && (token[0] == 'H' || token[0] == 'h')) {
    token.remove_prefix(1);
  }
  return token.size() == 5 && AllDigits(token);
}

bool IsSecondNumberGroup(absl::string_view token) {
  return token.size() == 5 && AllDigits(token);
}

std::optional<bool> ParseBool(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(text);
  if (t == "yes" || t == "true" || t == "1" || t == "on") return true;
  if (t == "no" || t == "false" || t == "0" || t == "off") return false;
  return std::nullopt;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<FlagSpec>& specs) {
  ParsedArgs parsed;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& token = args[i];
    if (!flags_done && token == "--") {
      flags_done = true;
      continue;
    }
    std::string name = flags_done ? "" : FlagName(token);
    if (name.empty()) {
      if (IsFirstNumberGroup(token) && i + 1 < args.size() &&
          IsSecondNumberGroup(args[i + 1])) {
        parsed.positional.push_back(absl::StrCat(token, " ", args[i + 1]));
        ++i;
      } else {
        parsed.positional.push_back(token);
      }
      continue;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (NormalizeFlagName(s.name) == name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (parsed.Has(name) && spec->kind != FlagSpec::kRepeated) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " given twice"));
    }
    size_t eq = token.find('=');
    std::optional<std::string> inline_value;
    if (eq != std::string::npos) inline_value = token.substr(eq + 1);
    if (spec->kind == FlagSpec::kSwitch) {
      bool on = true;
      if (inline_value) {
        std::optional<bool> b = ParseBool(*inline_value);
        if (!b) {
          return absl::InvalidArgumentError(absl::StrCat(
              "--", name, ": '", *inline_value, "' is not yes or no"));
        }
        on = *b;
      }
      parsed.values[name] = on ? "true" : "false";
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= args.size() || !FlagName(args[i + 1]).empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", name, ": needs a value",
            spec->value_name.empty() ? "" : " (",
            spec->value_name, spec->value_name.empty() ? "" : ")"));
      }
      value = args[++i];
    }
    if (spec->kind == FlagSpec::kNumber && IsFirstNumberGroup(value) &&
        i + 1 < args.size() && IsSecondNumberGroup(args[i + 1])) {
      absl::StrAppend(&value, " ", args[++i]);
    }
    if (spec->kind == FlagSpec::kRepeated) {
      std::vector<std::string>& list = parsed.lists[name];
      for (absl::string_view item : absl::StrSplit(value, ',')) {
        item = absl::StripAsciiWhitespace(item);
        if (!item.empty()) list.emplace_back(item);
      }
    }
    parsed.values[name] = value;
  }
  return parsed;
}

}  // namespace socle::client::cli
