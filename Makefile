# The front door; the scripts do the work and install what they need.

.PHONY: all build run test unit valgrind clean

all: build

build:
	scripts/build

run:
	scripts/run

test:
	scripts/test

unit:
	$(MAKE) -C t/unit

valgrind:
	scripts/test --valgrind

clean:
	rm -rf build t/servroot* t/tmp
	$(MAKE) -C t/unit clean
