// Each binding file registers one area of the API on the module; module.cpp calls them.
#pragma once

#include <pybind11/pybind11.h>

namespace vecindex::bindings {

void bind_errors(pybind11::module_& m);   // exception types and translators
void bind_simd(pybind11::module_& m);     // simd_info() and kernel test hooks
void bind_index(pybind11::module_& m);    // the Index class
void bind_filter(pybind11::module_& m);   // attribute schema and filter expressions
void bind_codecs(pybind11::module_& m);   // codec kernel and store test hooks (_codec_testing only)

}  // namespace vecindex::bindings
