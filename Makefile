# The front door; the scripts do the work and install what they need.

.PHONY: all build run demo test unit valgrind reload-soak deb clean

all: build

build:
	scripts/build

run:
	scripts/run

# the bundled mock of Google as the upstream, fake accounts, an API key
# and ready curl lines (scripts/run --demo; never the default)
demo:
	scripts/run --demo

test:
	scripts/test

unit:
	$(MAKE) -C t/unit

valgrind:
	scripts/test --valgrind

# issue #14's target: 50 reloads under wrk and a mixed load, failed/total
# (wrk on new connections; scripts/reload-soak alone keeps the plain ones
# alive and also counts nginx's closing of idle keep-alive connections)
reload-soak: build
	scripts/reload-soak --close

# the Debian package, in build/deb/ (docs/package.md)
deb:
	scripts/package

clean:
	rm -rf build t/servroot* t/tmp
	$(MAKE) -C t/unit clean
