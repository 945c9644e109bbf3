#include "server/access/field_filter.h"

#include <vector>

#include "socle/v1/access.pb.h"

namespace socle {

void ClearPersonalFields(google::protobuf::Message& message) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->options().GetExtension(v1::personal)) {
      reflection->ClearField(&message, field);
      continue;
    }
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        ClearPersonalFields(*reflection->MutableRepeatedMessage(&message, field, i));
      }
    } else {
      ClearPersonalFields(*reflection->MutableMessage(&message, field));
    }
  }
}

}  // namespace socle
