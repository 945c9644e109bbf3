// A gRPC MessageAllocator that puts a unary call's request and response on
// one protobuf arena, freed in one go when gRPC releases the call: for
// answers made of many small messages and strings (CheckEligibility's
// decisions and their criterion lines), which would otherwise cost a
// malloc and a free each, in the worker and again when gRPC destroys the
// response after sending it.
#ifndef SOCLE_SERVER_GRPC_ARENA_ALLOCATOR_H_
#define SOCLE_SERVER_GRPC_ARENA_ALLOCATOR_H_

#include <cstddef>

#include <grpcpp/support/message_allocator.h>

#include "google/protobuf/arena.h"

namespace socle {

template <typename Req, typename Resp>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Req, Resp> {
 public:
  // `first_block`: the arena's first block, about one typical call's
  // request and response, so that most calls allocate one block.
  explicit ArenaMessageAllocator(size_t first_block) {
    options_.start_block_size = first_block;
    options_.max_block_size = first_block * 4;
  }

  grpc::MessageHolder<Req, Resp>* AllocateMessages() override {
    return new Holder(options_);
  }

 private:
  class Holder final : public grpc::MessageHolder<Req, Resp> {
   public:
    explicit Holder(const google::protobuf::ArenaOptions& options) : arena_(options) {
      this->set_request(google::protobuf::Arena::CreateMessage<Req>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Resp>(&arena_));
    }
    void Release() override { delete this; }

   private:
    google::protobuf::Arena arena_;
  };

  google::protobuf::ArenaOptions options_;
};

}  // namespace socle

#endif  // SOCLE_SERVER_GRPC_ARENA_ALLOCATOR_H_
