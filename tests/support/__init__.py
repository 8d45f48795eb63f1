"""What tests share: servers, receivers, config writers, stored articles, the use cases over a
test engine. Tests import from here, never from another test module."""
