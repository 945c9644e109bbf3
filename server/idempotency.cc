#include "server/idempotency.h"

#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/field_error.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace socle {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Join(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

bool SameScalar(const Message& a, const Message& b, const FieldDescriptor* f,
                int index) {
  const Reflection* ra = a.GetReflection();
  const Reflection* rb = b.GetReflection();
  const bool repeated = f->is_repeated();
#define SOCLE_CMP(Getter)                                             \
  return repeated ? ra->GetRepeated##Getter(a, f, index) ==           \
                        rb->GetRepeated##Getter(b, f, index)          \
                  : ra->Get##Getter(a, f) == rb->Get##Getter(b, f)
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: SOCLE_CMP(Int32);
    case FieldDescriptor::CPPTYPE_INT64: SOCLE_CMP(Int64);
    case FieldDescriptor::CPPTYPE_UINT32: SOCLE_CMP(UInt32);
    case FieldDescriptor::CPPTYPE_UINT64: SOCLE_CMP(UInt64);
    case FieldDescriptor::CPPTYPE_BOOL: SOCLE_CMP(Bool);
    case FieldDescriptor::CPPTYPE_ENUM: SOCLE_CMP(EnumValue);
    case FieldDescriptor::CPPTYPE_STRING: SOCLE_CMP(String);
    case FieldDescriptor::CPPTYPE_DOUBLE: SOCLE_CMP(Double);
    case FieldDescriptor::CPPTYPE_FLOAT: SOCLE_CMP(Float);
    case FieldDescriptor::CPPTYPE_MESSAGE: return true;
  }
#undef SOCLE_CMP
  return true;
}

std::string Diff(const Message& a, const Message& b, const std::string& prefix) {
  const auto* descriptor = a.GetDescriptor();
  const Reflection* ra = a.GetReflection();
  const Reflection* rb = b.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* f = descriptor->field(i);
    const std::string path = Join(prefix, f->name());
    if (f->is_repeated()) {
      const int na = ra->FieldSize(a, f);
      const int nb = rb->FieldSize(b, f);
      for (int k = 0; k < std::min(na, nb); ++k) {
        const std::string item = absl::StrCat(path, "[", k, "]");
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          std::string d = Diff(ra->GetRepeatedMessage(a, f, k),
                               rb->GetRepeatedMessage(b, f, k), item);
          if (!d.empty()) return d;
        } else if (!SameScalar(a, b, f, k)) {
          return item;
        }
      }
      if (na != nb) return path;
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!ra->HasField(a, f) && !rb->HasField(b, f)) continue;
      std::string d = Diff(ra->GetMessage(a, f), rb->GetMessage(b, f), path);
      if (!d.empty()) return d;
    } else if (!SameScalar(a, b, f, 0)) {
      return path;
    }
  }
  return "";
}

}  // namespace

std::string FirstDifference(const Message& a, const Message& b) {
  return Diff(a, b, "");
}

std::string CanonicalRequest(const Message& request) {
  std::unique_ptr<Message> copy(request.New());
  copy->CopyFrom(request);
  const FieldDescriptor* id = copy->GetDescriptor()->FindFieldByName("request_id");
  if (id != nullptr) copy->GetReflection()->ClearField(copy.get(), id);
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  return out;
}

namespace {

// What is kept of a request: kCallerTag, the caller's certificate identity,
// a NUL, then the request's bytes (or fingerprint). Requests kept before
// they were scoped to their caller hold the bytes alone; a canonical
// request never starts with a NUL (no field has number 0), and a
// fingerprint starts with this tag once in 2^112.
constexpr absl::string_view kCallerTag("\0socle-caller:", 14);

std::string WithCaller(absl::string_view caller_id, absl::string_view request) {
  return absl::StrCat(kCallerTag, caller_id, absl::string_view("\0", 1), request);
}

struct KeptRequest {
  std::optional<absl::string_view> caller_id;  // none: kept before scoping
  absl::string_view request;
};

KeptRequest SplitKept(absl::string_view kept) {
  if (!absl::StartsWith(kept, kCallerTag)) return {std::nullopt, kept};
  kept.remove_prefix(kCallerTag.size());
  const size_t end = kept.find('\0');
  if (end == absl::string_view::npos) return {absl::string_view(), ""};
  return {kept.substr(0, end), kept.substr(end + 1)};
}

// RunIdempotent with what is stored of the request (`stored_request`) and
// how a differing one is named (`differing_field` of the stored bytes) left
// to the caller; `ahead`, when given, the body's first lookups.
absl::Status Run(
    storage::Store& store, bool alone, const Caller& caller, absl::string_view method,
    absl::string_view request_id, absl::string_view stored_request,
    absl::FunctionRef<std::string(const std::string& prior)> differing_field, absl::Time now,
    const storage::Lookahead* ahead, Message& response,
    absl::FunctionRef<absl::Status(storage::Txn&, Message&)> body) {
  const auto transaction = [&](storage::Txn& txn) -> absl::Status {
    response.Clear();
    if (ahead != nullptr) {
      storage::Lookahead with_request = *ahead;
      with_request.request_id = std::string(request_id);
      txn.Prefetch(with_request);
    }
    auto prior = txn.GetRequest(request_id);
    if (prior.ok()) {
      const KeptRequest kept = SplitKept(prior->request);
      if (kept.caller_id && *kept.caller_id != caller.id) {
        return WithErrorInfo(
            absl::AlreadyExistsError(
                "request_id was already used by another caller; generate a new one"),
            {"REQUEST_ID_REUSED", {{"field", "request_id"}}});
      }
      if (prior->method != method) {
        return WithErrorInfo(
            absl::AlreadyExistsError(absl::StrCat(
                "request_id was already used for another call (", prior->method,
                ")")),
            {"REQUEST_ID_REUSED", {{"field", "method"}}});
      }
      if (kept.request != stored_request) {
        std::string field = differing_field(std::string(kept.request));
        if (field.empty()) field = "request";
        return WithErrorInfo(
            absl::AlreadyExistsError(absl::StrCat(
                "request_id was already used with different content: ", field,
                " differs")),
            {"REQUEST_ID_REUSED", {{"field", field}}});
      }
      if (!response.ParseFromString(prior->response)) {
        return absl::InternalError("stored answer is unreadable");
      }
      return absl::OkStatus();
    }
    if (!absl::IsNotFound(prior.status())) return prior.status();
    RETURN_IF_ERROR(body(txn, response));
    storage::RequestRecord record;
    record.request_id = std::string(request_id);
    record.method = std::string(method);
    record.request = WithCaller(caller.id, stored_request);
    record.response = response.SerializeAsString();
    record.created_at = now;
    return txn.PutRequest(record);
  };
  return alone ? store.WriteAlone(transaction) : store.Write(transaction);
}

// RunIdempotent, with the body's first lookups when `ahead` is given.
absl::Status RunWhole(
    storage::Store& store, const Caller& caller, absl::string_view method,
    absl::string_view request_id, const Message& request, absl::Time now,
    const storage::Lookahead* ahead, Message& response,
    absl::FunctionRef<absl::Status(storage::Txn&, Message&)> body) {
  const std::string canonical = CanonicalRequest(request);
  return Run(
      store, /*alone=*/false, caller, method, request_id, canonical,
      [&](const std::string& prior) {
        std::unique_ptr<Message> first(request.New());
        first->ParseFromString(prior);
        std::unique_ptr<Message> now_request(request.New());
        now_request->ParseFromString(canonical);
        return FirstDifference(*first, *now_request);
      },
      now, ahead, response, body);
}

}  // namespace

absl::Status RunIdempotent(
    storage::Store& store, const Caller& caller, absl::string_view method,
    absl::string_view request_id, const Message& request, absl::Time now,
    Message& response,
    absl::FunctionRef<absl::Status(storage::Txn&, Message&)> body) {
  return RunWhole(store, caller, method, request_id, request, now, /*ahead=*/nullptr,
                  response, body);
}

absl::Status RunIdempotent(
    storage::Store& store, const Caller& caller, absl::string_view method,
    absl::string_view request_id, const Message& request, absl::Time now,
    const storage::Lookahead& ahead, Message& response,
    absl::FunctionRef<absl::Status(storage::Txn&, Message&)> body) {
  return RunWhole(store, caller, method, request_id, request, now, &ahead, response, body);
}

absl::Status RunIdempotentByFingerprint(
    storage::Store& store, const Caller& caller, absl::string_view method,
    absl::string_view request_id,
    absl::string_view fingerprint,
    absl::FunctionRef<std::string(const std::string& prior)> differing_field, absl::Time now,
    Message& response, absl::FunctionRef<absl::Status(storage::Txn&, Message&)> body) {
  // A batch: written alone (Store::WriteAlone).
  return Run(store, /*alone=*/true, caller, method, request_id, fingerprint, differing_field,
             now, /*ahead=*/nullptr, response, body);
}

}  // namespace socle
