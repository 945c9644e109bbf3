# socle: the two commands.
#   make run    builds and starts socle-server on loopback (SQLite, dev certificates)
#   make test   builds and runs the whole test suite with ctest (on SQLite and on a
#               throw-away PostgreSQL server)
# Both install missing Debian 12 packages first (apt-get; sudo when not root).

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
PORT ?= 50051
DEV_DIR := .dev
CERT_DIR := $(DEV_DIR)/certs

PACKAGES := g++ make cmake pkg-config openssl ca-certificates \
	libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
	libabsl-dev libsqlite3-dev libssl-dev libgtest-dev libgmock-dev \
	libpq-dev postgresql

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run test bench certs clean

all: build

# Installs only what is missing, so a second run costs a dpkg query.
deps:
	@missing=$$(for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

certs: deps
	@deploy/certs.sh $(CERT_DIR) >/dev/null

run: build certs
	@echo
	@echo "socle-server is starting on localhost:$(PORT) with database $(DEV_DIR)/socle.db."
	@echo "In another terminal, try:"
	@echo
	@echo "    $(BUILD_DIR)/bin/socle health"
	@echo "    $(BUILD_DIR)/bin/socle-admin user add dara --office KH-SR-03 --role supervisor   (type a password of 12+ characters)"
	@echo "    $(BUILD_DIR)/bin/socle login --user dara"
	@echo "    $(BUILD_DIR)/bin/socle register --given Sokha --family Chan --sex female --born 1990-04-12 --province \"Siem Reap\" --district \"Siem Reap\""
	@echo
	@echo "(the socle command finds the development certificates in $(CERT_DIR) by itself; Ctrl-C stops the server)"
	@echo
	$(BUILD_DIR)/bin/socle-server --port=$(PORT) --store=sqlite:$(DEV_DIR)/socle.db \
	  --policy=deploy/policy/default.textproto \
	  --tls_cert=$(CERT_DIR)/server.pem --tls_key=$(CERT_DIR)/server.key --client_ca=$(CERT_DIR)/ca.pem \
	  --principals=deploy/principals.textproto --token_key=$(CERT_DIR)/token.key --crl_dir=$(CERT_DIR)/crl \
	  --audit_signing_key=$(CERT_DIR)/audit-signing.key \
	  --data_keys=$(CERT_DIR)/data.keys --index_key=$(CERT_DIR)/index.key

# The storage suite runs against SQLite and PostgreSQL: tests/pg/with_postgres.sh
# starts a throw-away PostgreSQL server (as an unprivileged user when root) in a
# temporary directory, sets SOCLE_TEST_POSTGRES, and removes it afterwards.
test: build
	tests/pg/with_postgres.sh ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS) --timeout 600

# The benchmarks (BENCHMARKS.md): socle-bench from a Release build of its own
# in $(BENCH_DIR), then the full run on SQLite and on a throw-away durable
# PostgreSQL server (tests/pg/with_postgres.sh with SOCLE_PG_DURABLE=1), each
# table printed as it ends and both side by side at the end (some twelve
# minutes; also written to $(BENCH_DIR)/bench.json). BENCH_STORES=sqlite: runs
# SQLite alone; BENCH_ARGS adds options, e.g.
#   make bench BENCH_STORES=sqlite: BENCH_ARGS="--only=register,eligibility --duration=20s"
BENCH_DIR ?= build-release
BENCH_STORES ?= sqlite:,$$SOCLE_TEST_POSTGRES
BENCH_ARGS ?=
bench: deps
	@[ -f $(BENCH_DIR)/CMakeCache.txt ] || cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BENCH_DIR) -j$(JOBS) --target socle-bench
	SOCLE_PG_DURABLE=1 tests/pg/with_postgres.sh sh -c \
	  'exec "$$0" --store="$(BENCH_STORES)" --json=$(BENCH_DIR)/bench.json "$$@"' \
	  $(BENCH_DIR)/bin/socle-bench $(BENCH_ARGS)
