// The scan loop in C++, over the RE2 objects that google-re2 compiled, and the PAN check.
//
// google-re2's Python binding costs about 0.35 µs a call (argument conversion, a list of
// spans, the GIL released and taken back), more than RE2 needs to find the next match. This
// module asks the binding for its C++ objects through pybind11's cross-module conduit and
// calls RE2 directly. It declares nothing of RE2 but two exported member functions, looked
// up by name in the library google-re2 already loaded: any mismatch fails the lookup, and
// the caller then keeps the Python loop.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>

#include <algorithm>
#include <string_view>
#include <typeinfo>
#include <vector>

// Stand-ins with the binding's type names, for the conduit's type check only.
namespace re2 {
class RE2 {};
}  // namespace re2
namespace re2_python {
class Set {};  // holds one re2::RE2::Set as its only member
}  // namespace re2_python

namespace {

enum Anchor { kUnanchored = 0, kAnchorStart = 1, kAnchorBoth = 2 };

// re2::RE2::Match and re2::RE2::Set::Match: non-virtual const members, called with the
// object as the first argument as the Itanium C++ ABI passes `this`.
using MatchFn = bool (*)(const void*, std::string_view, size_t, size_t, int, std::string_view*,
                         int);
using SetMatchFn = bool (*)(const void*, std::string_view, std::vector<int>*);

const char kMatchSymbol[] =
    "_ZNK3re23RE25MatchESt17basic_string_viewIcSt11char_traitsIcEEmmNS0_6AnchorEPS4_i";
const char kSetMatchSymbol[] =
    "_ZNK3re23RE23Set5MatchESt17basic_string_viewIcSt11char_traitsIcEEPSt6vectorIiSaIiEE";

MatchFn match_fn = nullptr;
SetMatchFn set_match_fn = nullptr;

// Texts shorter than this are scanned with the GIL held: releasing it costs more.
const Py_ssize_t kReleaseGilAbove = 8192;

struct Span {
  int rule;
  Py_ssize_t begin;
  Py_ssize_t end;
};

// The C++ object behind a pybind11-wrapped Python object, or null (with an exception set).
void* cpp_pointer(PyObject* object, const std::type_info& type, PyObject* abi_id) {
  PyObject* type_capsule =
      PyCapsule_New(const_cast<std::type_info*>(&type), typeid(std::type_info).name(), nullptr);
  if (type_capsule == nullptr) return nullptr;
  PyObject* result = PyObject_CallMethod(object, "_pybind11_conduit_v1_", "OOy", abi_id,
                                         type_capsule, "raw_pointer_ephemeral");
  Py_DECREF(type_capsule);
  if (result == nullptr) return nullptr;
  void* pointer = nullptr;
  if (PyCapsule_CheckExact(result)) pointer = PyCapsule_GetPointer(result, type.name());
  Py_DECREF(result);
  if (pointer == nullptr && !PyErr_Occurred())
    PyErr_SetString(PyExc_TypeError, "the object is not one of google-re2's");
  return pointer;
}

typedef struct {
  PyObject_HEAD
  PyObject* owners;  // the Python objects that keep the two C++ objects alive
  const void* regex;
  const void* set;
  int marker;
} ScannerObject;

// The leftmost match at or after `start`, and the rule it belongs to; false when none.
bool next_match(const ScannerObject* self, std::string_view text, size_t start, size_t end,
                std::vector<int>* rules, Span* found) {
  std::string_view match;
  if (start > end || !match_fn(self->regex, text, start, end, kUnanchored, &match, 1))
    return false;
  Py_ssize_t begin = match.data() - text.data();
  rules->clear();
  set_match_fn(self->set, match, rules);
  // At one position the alternation prefers its first alternative: the lowest index.
  int rule = rules->empty() ? -1 : *std::min_element(rules->begin(), rules->end());
  *found = Span{rule, begin, begin + static_cast<Py_ssize_t>(match.size())};
  return true;
}

void scan_all(const ScannerObject* self, std::string_view text, std::vector<Span>* spans) {
  std::vector<int> rules;
  size_t start = 0;
  Span found;
  while (next_match(self, text, start, text.size(), &rules, &found)) {
    spans->push_back(found);
    start = found.end > found.begin ? found.end : found.end + 1;
  }
}

PyObject* spans_to_lists(const std::vector<Span>& spans, int marker) {
  PyObject* candidates = PyList_New(0);
  PyObject* markers = PyList_New(0);
  if (candidates == nullptr || markers == nullptr) goto fail;
  for (const Span& span : spans) {
    if (span.rule < 0) {
      PyErr_SetString(PyExc_RuntimeError, "a match that no rule of the set matches");
      goto fail;
    }
    PyObject* item = span.rule == marker
                         ? PyLong_FromSsize_t(span.begin)
                         : Py_BuildValue("(inn)", span.rule, span.begin, span.end);
    if (item == nullptr) goto fail;
    int failed = PyList_Append(span.rule == marker ? markers : candidates, item);
    Py_DECREF(item);
    if (failed) goto fail;
  }
  return Py_BuildValue("(NN)", candidates, markers);
fail:
  Py_XDECREF(candidates);
  Py_XDECREF(markers);
  return nullptr;
}

PyObject* Scanner_candidates(ScannerObject* self, PyObject* arg) {
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) return nullptr;
  std::string_view text(static_cast<const char*>(view.buf), view.len);
  std::vector<Span> spans;
  if (view.len > kReleaseGilAbove) {
    Py_BEGIN_ALLOW_THREADS scan_all(self, text, &spans);
    Py_END_ALLOW_THREADS
  } else {
    scan_all(self, text, &spans);
  }
  PyBuffer_Release(&view);
  return spans_to_lists(spans, self->marker);
}

PyObject* Scanner_matches(ScannerObject* self, PyObject* arg) {
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) return nullptr;
  std::string_view text(static_cast<const char*>(view.buf), view.len);
  std::string_view match;
  bool found = match_fn(self->regex, text, 0, text.size(), kUnanchored, &match, 1);
  PyBuffer_Release(&view);
  return PyBool_FromLong(found);
}

// first(data, start, end): the leftmost candidate in data[start:end] that is not a marker.
PyObject* Scanner_first(ScannerObject* self, PyObject* args) {
  Py_buffer view;
  Py_ssize_t start, end;
  if (!PyArg_ParseTuple(args, "y*nn", &view, &start, &end)) return nullptr;
  std::string_view text(static_cast<const char*>(view.buf), view.len);
  end = std::clamp<Py_ssize_t>(end, 0, view.len);
  std::vector<int> rules;
  Span found;
  bool any = false;
  while (start >= 0 && next_match(self, text, start, end, &rules, &found)) {
    if (found.rule != self->marker) {
      any = true;
      break;
    }
    start = found.end > found.begin ? found.end : found.end + 1;
  }
  PyBuffer_Release(&view);
  if (!any) Py_RETURN_NONE;
  return Py_BuildValue("(inn)", found.rule, found.begin, found.end);
}

int Scanner_init(ScannerObject* self, PyObject* args, PyObject*) {
  PyObject *regex, *set, *abi_id;
  int marker;
  if (!PyArg_ParseTuple(args, "OOiS", &regex, &set, &marker, &abi_id)) return -1;
  if (match_fn == nullptr || set_match_fn == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "bind() has not found RE2's functions");
    return -1;
  }
  const void* regex_pointer = cpp_pointer(regex, typeid(re2::RE2), abi_id);
  if (regex_pointer == nullptr) return -1;
  const void* set_pointer = cpp_pointer(set, typeid(re2_python::Set), abi_id);
  if (set_pointer == nullptr) return -1;
  Py_XSETREF(self->owners, PyTuple_Pack(2, regex, set));
  if (self->owners == nullptr) return -1;
  self->regex = regex_pointer;
  self->set = set_pointer;
  self->marker = marker;
  return 0;
}

void Scanner_dealloc(ScannerObject* self) {
  Py_XDECREF(self->owners);
  Py_TYPE(self)->tp_free(reinterpret_cast<PyObject*>(self));
}

PyMethodDef scanner_methods[] = {
    {"candidates", reinterpret_cast<PyCFunction>(Scanner_candidates), METH_O,
     "candidates(data) -> ([(rule, begin, end)], [marker begin]): every leftmost match."},
    {"matches", reinterpret_cast<PyCFunction>(Scanner_matches), METH_O,
     "matches(data) -> bool: whether anything matches."},
    {"first", reinterpret_cast<PyCFunction>(Scanner_first), METH_VARARGS,
     "first(data, start, end) -> (rule, begin, end) | None, markers skipped."},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject ScannerType = {PyVarObject_HEAD_INIT(nullptr, 0)};


// Issuer ranges: a PAN of `length` digits whose first six digits, read as a number, lie in
// [low, high] belongs to an issuer; `luhn` says whether that issuer uses the check digit.
struct IssuerRange {
  long low;
  long high;
  int length;
  bool luhn;
};

typedef struct {
  PyObject_HEAD
  std::vector<IssuerRange>* ranges;
} IssuerTableObject;

bool luhn_ok(const unsigned char* digits, Py_ssize_t count) {
  int sum = 0;
  for (Py_ssize_t index = 0; index < count; ++index) {
    int digit = digits[count - 1 - index] - '0';
    if (index % 2 == 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 == 0;
}

// The rule PanValidator.is_pan applies: a length and prefix some issuer uses, and Luhn
// unless every issuer that matches does without it.
bool is_pan(const std::vector<IssuerRange>& ranges, const unsigned char* digits,
            Py_ssize_t count) {
  if (count < 12 || count > 19) return false;
  long six = 0;
  for (int index = 0; index < 6; ++index) {
    if (digits[index] < '0' || digits[index] > '9') return false;
    six = six * 10 + (digits[index] - '0');
  }
  bool matched = false;
  bool needs_luhn = true;
  for (const IssuerRange& range : ranges) {
    if (range.length == count && range.low <= six && six <= range.high) {
      matched = true;
      needs_luhn = needs_luhn && range.luhn;
    }
  }
  if (!matched) return false;
  for (Py_ssize_t index = 6; index < count; ++index)
    if (digits[index] < '0' || digits[index] > '9') return false;
  return !needs_luhn || luhn_ok(digits, count);
}

PyObject* IssuerTable_is_pan(IssuerTableObject* self, PyObject* arg) {
  Py_buffer view;
  if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) return nullptr;
  bool found = is_pan(*self->ranges, static_cast<const unsigned char*>(view.buf), view.len);
  PyBuffer_Release(&view);
  return PyBool_FromLong(found);
}

int IssuerTable_init(IssuerTableObject* self, PyObject* args, PyObject*) {
  PyObject* items;
  if (!PyArg_ParseTuple(args, "O", &items)) return -1;
  PyObject* sequence = PySequence_Fast(items, "IssuerTable needs a sequence of ranges");
  if (sequence == nullptr) return -1;
  auto ranges = new std::vector<IssuerRange>();
  for (Py_ssize_t index = 0; index < PySequence_Fast_GET_SIZE(sequence); ++index) {
    IssuerRange range;
    int luhn;
    PyObject* item = PySequence_Fast_GET_ITEM(sequence, index);
    if (!PyArg_ParseTuple(item, "llip", &range.low, &range.high, &range.length, &luhn)) {
      delete ranges;
      Py_DECREF(sequence);
      return -1;
    }
    range.luhn = luhn;
    ranges->push_back(range);
  }
  Py_DECREF(sequence);
  delete self->ranges;
  self->ranges = ranges;
  return 0;
}

void IssuerTable_dealloc(IssuerTableObject* self) {
  delete self->ranges;
  Py_TYPE(self)->tp_free(reinterpret_cast<PyObject*>(self));
}

PyMethodDef issuer_table_methods[] = {
    {"is_pan", reinterpret_cast<PyCFunction>(IssuerTable_is_pan), METH_O,
     "is_pan(digits) -> bool: an issuer's length and prefix, and Luhn where it applies."},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject IssuerTableType = {PyVarObject_HEAD_INIT(nullptr, 0)};

// bind(library): find RE2's two functions in the already loaded binding at `library`.
PyObject* bind(PyObject*, PyObject* arg) {
  const char* library = PyUnicode_AsUTF8(arg);
  if (library == nullptr) return nullptr;
  void* handle = dlopen(library, RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) {
    PyErr_SetString(PyExc_ImportError, "google-re2's library is not loaded");
    return nullptr;
  }
  match_fn = reinterpret_cast<MatchFn>(dlsym(handle, kMatchSymbol));
  set_match_fn = reinterpret_cast<SetMatchFn>(dlsym(handle, kSetMatchSymbol));
  dlclose(handle);  // only drops the reference NOLOAD took; Python keeps it loaded
  if (match_fn == nullptr || set_match_fn == nullptr) {
    match_fn = nullptr;
    set_match_fn = nullptr;
    PyErr_SetString(PyExc_ImportError, "google-re2's library has no RE2::Match to call");
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyMethodDef module_methods[] = {
    {"bind", bind, METH_O, "bind(library_path): find RE2's functions in google-re2."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef native_module = {PyModuleDef_HEAD_INIT, "_native",
                             "The scan loop and the PAN check in C++.", -1,
                             module_methods};

// Fills in one of the module's two types; both are plain, with __init__ taking arguments.
int ready_type(PyTypeObject* type, const char* name, Py_ssize_t size, const char* doc,
               initproc init, destructor dealloc, PyMethodDef* methods) {
  type->tp_name = name;
  type->tp_basicsize = size;
  type->tp_flags = Py_TPFLAGS_DEFAULT;
  type->tp_doc = doc;
  type->tp_new = PyType_GenericNew;
  type->tp_init = init;
  type->tp_dealloc = dealloc;
  type->tp_methods = methods;
  return PyType_Ready(type);
}

}  // namespace

PyMODINIT_FUNC PyInit__native(void) {
  if (ready_type(&ScannerType, "redactor._native.Scanner", sizeof(ScannerObject),
                 "Scanner(regex, set, marker, abi_id): the scan loop over RE2 objects.",
                 reinterpret_cast<initproc>(Scanner_init),
                 reinterpret_cast<destructor>(Scanner_dealloc), scanner_methods) < 0 ||
      ready_type(&IssuerTableType, "redactor._native.IssuerTable", sizeof(IssuerTableObject),
                 "IssuerTable([(low6, high6, length, luhn)]): the PAN check.",
                 reinterpret_cast<initproc>(IssuerTable_init),
                 reinterpret_cast<destructor>(IssuerTable_dealloc), issuer_table_methods) < 0)
    return nullptr;
  PyObject* module = PyModule_Create(&native_module);
  if (module == nullptr) return nullptr;
  if (PyModule_AddObjectRef(module, "Scanner", reinterpret_cast<PyObject*>(&ScannerType)) < 0 ||
      PyModule_AddObjectRef(module, "IssuerTable",
                            reinterpret_cast<PyObject*>(&IssuerTableType)) < 0) {
    Py_DECREF(module);
    return nullptr;
  }
  return module;
}
