# cifarlab: make build | site | static | serve | test | run | bench | fuzz | clean

GO ?= go
# Real CIFAR-10 for the tests: ../shared/cifar10 beside the checkout when present.
CIFARLAB_TESTDATA ?= $(abspath $(wildcard ../shared/cifar10))
export CIFARLAB_TESTDATA

# The short training run of `make run`: LeNet5 for 2 epochs on the 50,000 real training images.
RUN_DATA ?= $(if $(CIFARLAB_TESTDATA),$(CIFARLAB_TESTDATA)/cifar-10-jpeg.tar.gz,)
RUN_FLAGS ?= -model lenet5 -epochs 2 -log run.jsonl

.PHONY: build site static serve test run bench fuzz clean

# One binary with every subcommand, desktop included: ebiten and gogpu/wgpu
# link together only without cgo and with -tags nofakecgo (see desktop.go).
build: site
	CGO_ENABLED=0 $(GO) build -tags nofakecgo -o bin/cifarlab .

# The web app's built files, beside the page's own (index.html and the
# scripts, kept in git): the page's program from ./wasm (the viewer) and the
# trainer from ./wasm/worker (which runs in a Web Worker) compiled to
# WebAssembly, and the wasm_exec.js of the Go that compiled them (in
# lib/wasm since Go 1.24). -s -w drops the symbol table and DWARF
# (tracebacks keep their function names) and -trimpath the build machine's
# paths. With zstd installed, also a .zst of each module, which cifarlab
# serve sends to browsers that take zstd (Chrome, Edge, Firefox); with
# brotli installed, a .br for those that take br but not zstd (Safari).
# Each is remade only when its module changes (a module is replaced only
# then).
WASMS = cifarlab cifarlab-worker
site:
	mkdir -p site bin
	GOOS=js GOARCH=wasm $(GO) build -ldflags="-s -w" -trimpath -o bin/cifarlab.wasm ./wasm
	GOOS=js GOARCH=wasm $(GO) build -ldflags="-s -w" -trimpath -o bin/cifarlab-worker.wasm ./wasm/worker
	for m in $(WASMS); do cmp -s bin/$$m.wasm site/$$m.wasm || cp bin/$$m.wasm site/$$m.wasm; done
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" site/wasm_exec.js
	@for m in $(WASMS); do \
		if ! command -v zstd >/dev/null 2>&1; then \
			rm -f site/$$m.wasm.zst; \
			echo "note: no zstd on PATH, so $$m.wasm goes out gzip-compressed, a third larger (Debian: apt-get install zstd)"; \
		elif [ ! site/$$m.wasm.zst -nt site/$$m.wasm ]; then \
			echo "zstd -19 site/$$m.wasm"; \
			zstd -q -19 -T0 -c site/$$m.wasm > bin/$$m.wasm.zst && mv bin/$$m.wasm.zst site/$$m.wasm.zst || exit 1; \
		fi; \
		if ! command -v brotli >/dev/null 2>&1; then \
			rm -f site/$$m.wasm.br; \
		elif [ ! site/$$m.wasm.br -nt site/$$m.wasm ]; then \
			echo "brotli -q 9 site/$$m.wasm"; \
			brotli -q 9 -w 24 -c site/$$m.wasm > bin/$$m.wasm.br && mv bin/$$m.wasm.br site/$$m.wasm.br || exit 1; \
		fi; \
	done

# Serves site/ and CIFAR-10 for it on 127.0.0.1:8080 (SERVE_FLAGS, e.g.
# "-addr 127.0.0.1:9000 -data PATH"; -data defaults to RUN_DATA when set).
SERVE_FLAGS ?= $(if $(RUN_DATA),-data $(RUN_DATA),)
serve: build
	./bin/cifarlab serve $(SERVE_FLAGS)

# The browser tests run when Chromium is installed, or fail when
# CIFARLAB_REQUIRE names chromium (as in CI); otherwise they are skipped
# with a message. Those of the page (./e2e, in ./...) build the binary and
# the site they serve themselves.
# The desktop viewer's test (TestDesktop, in ./...) builds it as make build
# does and runs it under xvfb-run when installed, or fails without it when
# CIFARLAB_REQUIRE names xvfb (as in CI).
test:
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet -tags nofakecgo .
	GOOS=js GOARCH=wasm $(GO) build ./cifar/... ./cpu/... ./net/... ./gpu/... ./shaders/...
	$(GO) test -timeout 20m ./...
	$(MAKE) --no-print-directory test-ports
	@if command -v chromium >/dev/null 2>&1 || echo ",$$CIFARLAB_REQUIRE," | grep -q ',chromium,'; then \
		$(MAKE) --no-print-directory test-browser; \
	else \
		echo "skipping the browser tests: no chromium on PATH (Debian: apt-get install chromium)"; \
	fi

# The other platforms cifarlab ships for: every package vetted, and the
# command (desktop included, as make build links it) built, for each of
# PORTS, so that the Metal, DX12 and arm64 paths compile in every change.
# They have no AVX, so the CPU backend runs the portable matrix product
# there; its tests and the golden tests against PyTorch run again with it
# (CIFARLAB_SGEMM=go caps this machine to it). The CPU backend's tests run
# once more as a CPU with AVX2 and without AVX-512 (most laptops) runs them,
# another lowering of the convolutions (CIFARLAB_SGEMM=avx2).
PORTS ?= darwin/arm64 windows/amd64 linux/arm64
.PHONY: test-ports
test-ports:
	@for p in $(PORTS); do \
		echo "vet and build for $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./... || exit 1; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) vet -tags nofakecgo . || exit 1; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -tags nofakecgo -o /dev/null . || exit 1; \
	done
	CIFARLAB_SGEMM=go $(GO) test -count=1 -timeout 20m ./cpu/... ./net/...
	CIFARLAB_SGEMM=avx2 $(GO) test -count=1 -timeout 20m ./cpu/...

# The page as a folder any static web host serves as it is (static/), with
# the dataset of RUN_DATA, or STATIC_FLAGS (e.g. "-data PATH -limit 10000").
STATIC_FLAGS ?= $(if $(RUN_DATA),-data $(RUN_DATA),)
static: build
	./bin/cifarlab site -out static $(STATIC_FLAGS)

run: build
	./bin/cifarlab train $(if $(RUN_DATA),-data $(RUN_DATA),) $(RUN_FLAGS)

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./cpu/...
	./bin/cifarlab bench -model lenet5
	./bin/cifarlab bench -model resnet18 -steps 5

# Each fuzz target of the parsers for a while (FUZZTIME=30s by default).
FUZZTIME ?= 30s
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s
fuzz:
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzDecode$$' ./net/safetensors
	for f in FuzzParseBin FuzzReadArchive FuzzDecodeImage FuzzJPEGSize; do \
		$(GO) test $(FUZZFLAGS) -fuzz "^$$f\$$" ./cifar || exit 1; \
	done

clean:
	rm -rf bin static site/wasm_exec.js $(foreach m,$(WASMS),site/$(m).wasm site/$(m).wasm.zst site/$(m).wasm.br)

# Browser tests: the packages of BROWSER_PKGS, compiled to WebAssembly, run by
# bin/wasmtest in headless Chromium with WebGPU on its SwiftShader
# (Debian: apt-get install chromium), after wasmtest's own tests. The CPU
# backend's run there with its SIMD128 kernels (the page's CPU fallback),
# and again as a browser without relaxed SIMD runs it (CIFARLAB_SGEMM=simd:
# Safari) and one without SIMD (CIFARLAB_SGEMM=go).
BROWSER_PKGS ?= ./internal/wasmtest/webgputest ./cpu/vec ./cpu/sgemm ./cpu ./gpu ./wasm ./wasm/worker
comma := ,
BROWSER_REQUIRE = $(if $(CIFARLAB_REQUIRE),$(CIFARLAB_REQUIRE)$(comma))chromium,webgpu

.PHONY: wasmtest test-browser

wasmtest:
	$(GO) build -o bin/wasmtest ./internal/wasmtest

test-browser: wasmtest
	CIFARLAB_REQUIRE=$(BROWSER_REQUIRE) $(GO) test -count=1 ./internal/wasmtest
	GOOS=js GOARCH=wasm $(GO) vet $(BROWSER_PKGS)
	CIFARLAB_REQUIRE=$(BROWSER_REQUIRE) GOOS=js GOARCH=wasm \
		$(GO) test -count=1 -timeout 20m -exec "$(CURDIR)/bin/wasmtest" -skip '^TestTrainingMatchesCPU$$' $(BROWSER_PKGS)
	for s in simd go; do \
		CIFARLAB_SGEMM=$$s CIFARLAB_REQUIRE=$(BROWSER_REQUIRE) GOOS=js GOARCH=wasm \
			$(GO) test -count=1 -timeout 20m -exec "$(CURDIR)/bin/wasmtest" ./cpu/vec ./cpu/sgemm ./cpu || exit 1; \
	done
	# The GPU's whole training steps against the CPU, in a Go heap of their
	# own: with the rest of the package in the same one, Chromium's Go
	# runtime now and then stopped with "found bad pointer in Go heap" (at
	# 0x1e9d0000, a little past 512 MB; the cause is not found).
	CIFARLAB_REQUIRE=$(BROWSER_REQUIRE) GOOS=js GOARCH=wasm \
		$(GO) test -count=1 -timeout 20m -exec "$(CURDIR)/bin/wasmtest" -run '^TestTrainingMatchesCPU$$' ./gpu
