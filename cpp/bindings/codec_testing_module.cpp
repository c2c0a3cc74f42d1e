// vecindex._codec_testing: the codec kernel and store hooks of bind_codecs.cpp, for tests only.
// A module of its own so the shipped _core carries no test surface; `import vecindex` never
// loads it.
#include "bindings/bind.h"

PYBIND11_MODULE(_codec_testing, m) {
  m.doc() = "Test hooks for vecindex's codec kernels and stores. Not public API.";
  // _core registers the translators that turn the core's exceptions into ValueError and the
  // rest; pybind11 shares them between modules, so importing _core first is all it takes.
  pybind11::module_::import("vecindex._core");
  vecindex::bindings::bind_codecs(m);
}
