// The engine's hot path in C++: the scan loop over the RE2 objects that google-re2 compiled,
// the PAN check, the whole redaction of the common cases (RecordRedactor, below) and of an
// app's plain stdlib log records (LogRecordFilter).
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
#include <atomic>
#include <memory>
#include <string>
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

// False, with an exception set, for an object whose __init__ has not run (or failed).
bool initialised(const void* state) {
  if (state == nullptr) PyErr_SetString(PyExc_RuntimeError, "object not initialised");
  return state != nullptr;
}

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

// RE2 finds the leftmost match, but to tell where it ends it reads on for as long as an
// alternative that started no later could still match (an address's local part runs over
// any word): a text of back-to-back key prefixes would cost a pass to its end per match.
// So the search looks no further than a window, doubled until it holds a match that ends
// kLookMargin bytes before the window does (no secret is that long) or reaches `end`. The
// next search starts with a window eight times as far as this one needed. _scanner.py does
// the same.
const size_t kLookWindow = 2048;
const size_t kLookMargin = 512;

// The leftmost match at or after `start`, and the rule it belongs to; false when none.
// `*window` is how far to look first, updated for the next search.
bool next_match(const ScannerObject* self, std::string_view text, size_t start, size_t end,
                std::vector<int>* rules, Span* found, size_t* window) {
  std::string_view match;
  if (start > end) return false;
  size_t match_end = 0;
  for (;; *window *= 2) {
    size_t stop = end - start > *window ? start + *window : end;
    bool any = match_fn(self->regex, text, start, stop, kUnanchored, &match, 1);
    match_end = any ? match.data() - text.data() + match.size() : 0;
    if (stop == end && !any) return false;
    if (stop == end || (any && match_end + kLookMargin <= stop)) break;
    // Nothing ends inside the window: a match, no longer than the margin, starts in its end.
    if (!any) start = stop - kLookMargin;
  }
  *window = std::max(kLookWindow, 8 * (match_end - start) + kLookMargin);
  Py_ssize_t begin = match.data() - text.data();
  rules->clear();
  set_match_fn(self->set, match, rules);
  // At one position the alternation prefers its first alternative: the lowest index.
  int rule = rules->empty() ? -1 : *std::min_element(rules->begin(), rules->end());
  *found = Span{rule, begin, begin + static_cast<Py_ssize_t>(match.size())};
  return true;
}

// Where the scan goes on after `found`, as the Python loop's _resume_at says: one byte in
// after a marker, whose last byte may be the boundary a card number behind it needs, and on
// the last byte of a match that an "=" follows (jane@example.com=4242...), for the same.
Py_ssize_t resume_at(const ScannerObject* self, std::string_view text, const Span& found) {
  if (found.rule == self->marker) return found.begin + 1;
  Py_ssize_t size = static_cast<Py_ssize_t>(text.size());
  if (found.end - found.begin >= 2 && found.end < size && text[found.end] == '=')
    return found.end - 1;
  return found.end > found.begin ? found.end : found.end + 1;
}

void scan_all(const ScannerObject* self, std::string_view text, std::vector<Span>* spans) {
  std::vector<int> rules;
  size_t start = 0;
  Span found;
  size_t window = kLookWindow;
  while (next_match(self, text, start, text.size(), &rules, &found, &window)) {
    spans->push_back(found);
    start = resume_at(self, text, found);
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

// Runs `work` on the bytes of `data`, letting other threads run while it scans a large
// buffer (`work` then touches no Python object). False, with an exception set, if `data`
// has no buffer.
template <typename Work>
bool on_buffer(PyObject* data, Work work) {
  Py_buffer view;
  if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) return false;
  std::string_view text(static_cast<const char*>(view.buf), view.len);
  if (view.len > kReleaseGilAbove) {
    Py_BEGIN_ALLOW_THREADS work(text);
    Py_END_ALLOW_THREADS
  } else {
    work(text);
  }
  PyBuffer_Release(&view);
  return true;
}

PyObject* Scanner_candidates(ScannerObject* self, PyObject* arg) {
  if (!initialised(self->regex)) return nullptr;
  std::vector<Span> spans;
  if (!on_buffer(arg, [&](std::string_view text) { scan_all(self, text, &spans); }))
    return nullptr;
  return spans_to_lists(spans, self->marker);
}

PyObject* Scanner_matches(ScannerObject* self, PyObject* arg) {
  if (!initialised(self->regex)) return nullptr;
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
  if (!initialised(self->regex)) return nullptr;
  Py_buffer view;
  Py_ssize_t start, end;
  if (!PyArg_ParseTuple(args, "y*nn", &view, &start, &end)) return nullptr;
  std::string_view text(static_cast<const char*>(view.buf), view.len);
  end = std::clamp<Py_ssize_t>(end, 0, view.len);
  std::vector<int> rules;
  Span found;
  bool any = false;
  size_t window = kLookWindow;
  while (start >= 0 && next_match(self, text, start, end, &rules, &found, &window)) {
    if (found.rule < 0 || found.rule != self->marker) {
      any = true;
      break;
    }
    start = resume_at(self, text, found);
  }
  PyBuffer_Release(&view);
  if (!any) Py_RETURN_NONE;
  if (found.rule < 0) {
    PyErr_SetString(PyExc_RuntimeError, "a match that no rule of the set matches");
    return nullptr;
  }
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
  if (!initialised(self->ranges)) return nullptr;
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

// ---------------------------------------------------------------------------------------
// The whole redaction of a short text (an app's log record) in one call, for the common
// cases only: a rule whose match is the secret, a card number as one plain run of digits,
// a plain email address, each replaced by its placeholder. Anything else (a diagnose
// marker, a grouped or escaped number, an escaped address, a rejected email, a number that
// is a bare JSON value, a mask or HMAC mode) makes it answer None, and the caller runs the
// Python engine, which is the reference: where this answers, it answers the same.

enum RuleKind { kDefer = 0, kWhole = 1, kPan = 2, kEmail = 3 };

struct FastRule {
  int kind;
  std::string placeholder;
  std::vector<std::string> ignore_keys;  // lower case: a plain number after one is an ID
  bool digits_only;                      // no other rule can match inside a rejected run
  bool word_start;                       // a whole match inside a word (alert_test_) is none
};

struct Finding {
  Py_ssize_t start;
  Py_ssize_t end;
  int rule;
};

enum Verdict { kDeferred, kRejected, kAccepted };

typedef struct {
  PyObject_HEAD
  ScannerObject* scanner;
  IssuerTableObject* issuers;
  PyObject* entities;  // a list: the entity of each rule, handed back for the counts
  std::vector<FastRule>* rules;
  std::vector<std::string>* file_extensions;  // top-level "domains" that are file types
  std::atomic<unsigned long long>* counts;    // findings of each rule, for the engine's stats
} RecordObject;

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool is_alnum(unsigned char c) { return is_digit(c) || is_alpha(c); }
bool is_wordish(unsigned char c) { return is_alnum(c) || c == '_'; }
bool is_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c | 0x20 : c; }

bool hex4(std::string_view text, Py_ssize_t start) {
  if (start < 0 || static_cast<size_t>(start) + 4 > text.size()) return false;
  for (int index = 0; index < 4; ++index)
    if (!is_hex(text[start + index])) return false;
  return true;
}

// Right after a %XX escape or a JSON backslash-u escape: digits there start a new value.
bool after_escape(std::string_view text, Py_ssize_t start) {
  if (start >= 3 && text[start - 3] == '%' && is_hex(text[start - 2]) && is_hex(text[start - 1]))
    return true;
  return start >= 6 && text[start - 6] == '\\' && text[start - 5] == 'u' && hex4(text, start - 4);
}

// As _validators.py says: a dash-joined run up to this long may be an ID's part, a run
// after "+" up to this long a phone number; longer ones are card numbers all the same.
const Py_ssize_t kLongestIdPart = 12;
const Py_ssize_t kLongestPhone = 13;
const Py_ssize_t kNoCard = 99;

// How many digits a card starting at `start` needs, given what stands before it.
Py_ssize_t fewest_digits_after(std::string_view text, Py_ssize_t start) {
  if (start == 0) return 0;
  unsigned char before = text[start - 1];
  unsigned char prior = start >= 2 ? text[start - 2] : ' ';
  if (is_digit(before)) return after_escape(text, start) ? 0 : kNoCard;
  if (before == '-') return is_wordish(prior) ? kLongestIdPart + 1 : 0;
  if (before == '.') return is_digit(prior) ? kNoCard : 0;
  if (before == '+') return kLongestPhone + 1;
  return 0;
}

// How many digits a card ending at `end` needs, given what follows it.
Py_ssize_t fewest_digits_before(std::string_view text, Py_ssize_t end) {
  Py_ssize_t size = text.size();
  if (end >= size || text[end] != '-') return 0;
  unsigned char following = end + 1 < size ? text[end + 1] : ' ';
  return is_wordish(following) ? kLongestIdPart + 1 : 0;
}

// Not the continuation of a number or a decimal, nor an ID's part or a phone number.
bool free_standing(std::string_view text, Py_ssize_t start, Py_ssize_t end) {
  return end - start >= std::max(fewest_digits_after(text, start), fewest_digits_before(text, end));
}

// Whether the value at `start` follows one of `keys` (trace_id=, "span_id": ...).
bool after_key(std::string_view text, Py_ssize_t start, const std::vector<std::string>& keys) {
  Py_ssize_t begin = std::max<Py_ssize_t>(0, start - 48);
  Py_ssize_t end = start;
  while (end > begin && std::string_view("\"' \t=:").find(text[end - 1]) != std::string::npos)
    --end;
  for (const std::string& key : keys) {
    Py_ssize_t length = key.size();
    if (end - begin < length) continue;
    bool same = true;
    for (Py_ssize_t index = 0; index < length && same; ++index)
      same = lower(text[end - length + index]) == static_cast<unsigned char>(key[index]);
    if (same) return true;
  }
  return false;
}

// A number standing as a bare JSON value needs quotes around its placeholder: left to Python.
bool may_be_json_number(std::string_view text, Py_ssize_t start) {
  if (!is_digit(text[start])) return false;
  Py_ssize_t begin = std::max<Py_ssize_t>(0, start - 64);
  for (Py_ssize_t index = start - 1; index >= begin; --index) {
    if (is_blank(text[index])) continue;
    return text[index] == ':' || text[index] == '[' || text[index] == ',';
  }
  return false;
}

Verdict plain_pan(const RecordObject* self, const FastRule& rule, std::string_view text,
                  const Span& match, Py_ssize_t* value_start) {
  Py_ssize_t start = match.begin, end = match.end;
  unsigned char first = text[start];
  if (end - start < 2 || first == '%' || first == '\\' || is_digit(first)) return kDeferred;
  Py_ssize_t digits = start + 1;
  if (!is_digit(text[start + 1])) {  // a key's tail and "=" before the digits: card=4242...
    std::string_view head = text.substr(start, std::min<Py_ssize_t>(4, text.size() - start));
    size_t equals = head.find('=');
    digits = equals == std::string::npos ? start + 1 : start + equals + 1;
  }
  if (end - digits > 19 || end <= digits) return kDeferred;  // grouped, or a longer run
  for (Py_ssize_t index = digits; index < end; ++index)
    if (!is_digit(text[index])) return kDeferred;
  const auto* number = reinterpret_cast<const unsigned char*>(text.data()) + digits;
  bool pan = is_pan(*self->issuers->ranges, number, end - digits) &&
             free_standing(text, digits, end) && !after_key(text, digits, rule.ignore_keys);
  *value_start = digits;
  return pan ? kAccepted : kRejected;
}

bool is_file_extension(const RecordObject* self, std::string_view label) {
  std::string lowered(label);
  for (char& c : lowered) c = static_cast<char>(lower(c));
  const auto& known = *self->file_extensions;
  return std::find(known.begin(), known.end(), lowered) != known.end();
}

Verdict plain_email(const RecordObject* self, std::string_view text, const Span& match,
                    Py_ssize_t* local_start) {
  Py_ssize_t start = match.begin, end = match.end, size = text.size();
  for (Py_ssize_t index = start; index < end; ++index) {
    unsigned char c = text[index];
    if (c == '%' || c == '\\' || c >= 0x80) return kDeferred;  // escapes, other scripts
  }
  if (text[end - 1] == '.' || (end < size && (text[end] == '.' || text[end] == '\xe2')))
    return kDeferred;  // maybe cut short by a repr limit: ... or an ellipsis
  if (start > 0 && text[start - 1] == '\\') return kDeferred;  // after a JSON escape
  if (start >= 2 && text[start - 2] == '\x1b' && text[start - 1] == '[') return kDeferred;
  std::string_view address = text.substr(start, end - start);
  size_t at = address.rfind('@');
  if (at == std::string::npos) return kDeferred;
  std::string_view domain = address.substr(at + 1);
  size_t dot = domain.rfind('.');
  std::string_view label = dot == std::string::npos ? domain : domain.substr(dot + 1);
  bool letters = label.size() >= 2 && std::all_of(label.begin(), label.end(), [](char c) {
    return is_alpha(static_cast<unsigned char>(c));
  });
  if (!letters || is_file_extension(self, label)) return kDeferred;
  size_t local = 0;
  size_t quote = address.substr(0, at).find('\'');
  if (quote != std::string::npos && quote >= 1 && quote <= 2) {
    std::string prefix(address.substr(0, quote));
    for (char& c : prefix) c = static_cast<char>(lower(c));
    if (prefix == "b" || prefix == "u" || prefix == "r" || prefix == "f" || prefix == "br" ||
        prefix == "rb")
      local = quote;  // b'jane@example.com' is a bytes repr, not an address starting "b'"
  }
  while (local < at && (address[local] == '\'' || address[local] == '.')) ++local;
  if (local >= at) return kDeferred;
  *local_start = start + local;
  return kAccepted;
}

// Whether a match belongs to one of the rules this was built with (or is the marker).
bool known_rule(const RecordObject* self, const Span& match) {
  return match.rule == self->scanner->marker ||
         (match.rule >= 0 && static_cast<size_t>(match.rule) < self->rules->size());
}

// What the Python engine would make of one match: a finding from `*start` to the match's
// end, nothing, or kDeferred when only the Python engine can tell.
Verdict judge(const RecordObject* self, std::string_view text, const Span& match,
              Py_ssize_t* start) {
  const FastRule& rule = (*self->rules)[match.rule];
  *start = match.begin;
  Verdict verdict = kDeferred;
  if (rule.kind == kWhole)
    verdict = rule.word_start && match.begin > 0 && is_alnum(text[match.begin - 1]) ? kRejected
                                                                                   : kAccepted;
  if (rule.kind == kPan) verdict = plain_pan(self, rule, text, match, start);
  if (rule.kind == kEmail) verdict = plain_email(self, text, match, start);
  if (verdict != kRejected) return verdict;
  // Python looks inside a rejected run for other rules unless a blank ends it.
  bool blank_after = match.end < static_cast<Py_ssize_t>(text.size()) && is_blank(text[match.end]);
  return blank_after && rule.digits_only ? kRejected : kDeferred;
}

// The findings of `text`, or false when some match needs the Python engine.
bool find_plain(const RecordObject* self, std::string_view text, std::vector<Finding>* found) {
  if (text.find('\x1b') != std::string_view::npos) return false;  // colour codes: see Python
  std::vector<Span> spans;
  scan_all(self->scanner, text, &spans);
  for (const Span& match : spans) {
    if (!known_rule(self, match) || match.rule == self->scanner->marker) return false;
    Py_ssize_t start;
    Verdict verdict = judge(self, text, match, &start);
    if (verdict == kDeferred || (verdict == kAccepted && may_be_json_number(text, start)))
      return false;
    if (verdict == kAccepted) found->push_back(Finding{start, match.end, match.rule});
  }
  return true;
}

struct Judged {
  Span span;  // the finding's span when settled, else the match's
  bool settled;
};

// False when a match belongs to no rule of the set, which the caller must not pass over.
bool judge_all(const RecordObject* self, std::string_view text, std::vector<Judged>* judged,
               std::vector<Py_ssize_t>* markers) {
  std::vector<Span> spans;
  scan_all(self->scanner, text, &spans);
  for (const Span& match : spans) {
    if (match.rule == self->scanner->marker) {
      markers->push_back(match.begin);
      continue;
    }
    if (!known_rule(self, match)) return false;
    Py_ssize_t start;
    Verdict verdict = judge(self, text, match, &start);
    if (verdict == kAccepted) judged->push_back({Span{match.rule, start, match.end}, true});
    if (verdict == kDeferred) judged->push_back({match, false});
  }
  return true;
}

// judge(data): the scan of a buffer of any size, with the common matches already judged.
PyObject* Record_judge(RecordObject* self, PyObject* arg) {
  if (!initialised(self->rules)) return nullptr;
  std::vector<Judged> judged;
  std::vector<Py_ssize_t> markers;
  bool complete = false;
  auto work = [&](std::string_view text) { complete = judge_all(self, text, &judged, &markers); };
  if (!on_buffer(arg, work)) return nullptr;
  if (!complete) {
    PyErr_SetString(PyExc_RuntimeError, "a match that no rule of the set matches");
    return nullptr;
  }
  PyObject* entries = PyList_New(judged.size());
  PyObject* corners = PyList_New(markers.size());
  if (entries == nullptr || corners == nullptr) {
    Py_XDECREF(entries);
    Py_XDECREF(corners);
    return nullptr;
  }
  for (size_t index = 0; index < judged.size(); ++index) {
    const Judged& item = judged[index];
    PyObject* entry = Py_BuildValue("(innO)", item.span.rule, item.span.begin, item.span.end,
                                    item.settled ? Py_True : Py_False);
    if (entry == nullptr) {
      Py_DECREF(entries);
      Py_DECREF(corners);
      return nullptr;
    }
    PyList_SET_ITEM(entries, index, entry);
  }
  for (size_t index = 0; index < markers.size(); ++index)
    PyList_SET_ITEM(corners, index, PyLong_FromSsize_t(markers[index]));
  return Py_BuildValue("(NN)", entries, corners);
}

// The redaction of `text` by the common cases, into `output` with the rule of each finding
// in `rules` (both left empty when nothing is found); false when Python must do it.
bool redact_plain(const RecordObject* self, std::string_view text, std::string* output,
                  std::vector<int>* rules) {
  std::vector<Finding> found;
  if (!find_plain(self, text, &found)) return false;
  Py_ssize_t position = 0;
  for (const Finding& finding : found) {
    output->append(text.substr(position, finding.start - position));
    output->append((*self->rules)[finding.rule].placeholder);
    position = finding.end;
    rules->push_back(finding.rule);
  }
  if (!found.empty()) output->append(text.substr(position));
  return true;
}

// Adds the findings of a redaction that is handed back, for the engine's stats.
void count(const RecordObject* self, const std::vector<int>& rules) {
  for (int rule : rules) self->counts[rule].fetch_add(1, std::memory_order_relaxed);
}

PyObject* Record_redact(RecordObject* self, PyObject* arg) {
  if (!initialised(self->rules)) return nullptr;
  if (!PyBytes_Check(arg)) {
    PyErr_SetString(PyExc_TypeError, "redact() takes bytes");
    return nullptr;
  }
  std::string_view text(PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg));
  std::string output;
  std::vector<int> rules;
  if (!redact_plain(self, text, &output, &rules)) Py_RETURN_NONE;
  if (rules.empty()) return Py_NewRef(arg);  // the usual answer for an app's records
  PyObject* redacted = PyBytes_FromStringAndSize(output.data(), output.size());
  if (redacted != nullptr) count(self, rules);
  return redacted;
}

// What Python's redact_message gives for a str, counted; null (no exception set, or one
// the caller clears) when only Python can tell: lone surrogates, colour codes, a JSON
// document with something to redact.
PyObject* redacted_text(const RecordObject* self, PyObject* text) {
  Py_ssize_t size;
  const char* data = PyUnicode_AsUTF8AndSize(text, &size);
  if (data == nullptr) return nullptr;  // lone surrogates: Python encodes them its own way
  std::string_view view(data, size);
  std::string output;
  std::vector<int> rules;
  if (!redact_plain(self, view, &output, &rules)) return nullptr;
  bool looks_json = size > 0 && (data[0] == '{' || data[0] == '[');
  // A JSON document is redacted value by value in Python; a clean one is kept as it is,
  // unless a value holds escapes of its own (an escaped backslash), seen only once decoded.
  if (looks_json && (!rules.empty() || view.find("\\u001b") != std::string_view::npos ||
                     view.find("\\\\") != std::string_view::npos))
    return nullptr;
  if (rules.empty()) return Py_NewRef(text);
  PyObject* redacted = PyUnicode_DecodeUTF8(output.data(), output.size(), "strict");
  if (redacted != nullptr) count(self, rules);
  return redacted;
}

// redact_message(text): redact_message's answer for a str, or None when Python must tell.
PyObject* Record_redact_message(RecordObject* self, PyObject* arg) {
  if (!initialised(self->rules)) return nullptr;
  if (!PyUnicode_Check(arg)) {
    PyErr_SetString(PyExc_TypeError, "redact_message() takes a str");
    return nullptr;
  }
  PyObject* redacted = redacted_text(self, arg);
  if (redacted != nullptr) return redacted;
  PyErr_Clear();
  Py_RETURN_NONE;
}

// counts(): {entity: findings} of what redact() and LogRecordFilter redacted so far.
PyObject* Record_counts(RecordObject* self, PyObject*) {
  if (!initialised(self->rules)) return nullptr;
  PyObject* counts = PyDict_New();
  for (size_t rule = 0; counts != nullptr && rule < self->rules->size(); ++rule) {
    unsigned long long found = self->counts[rule].load(std::memory_order_relaxed);
    if (found == 0) continue;
    PyObject* entity = PyList_GET_ITEM(self->entities, rule);
    PyObject* before = PyDict_GetItemWithError(counts, entity);
    PyObject* total = PyLong_FromUnsignedLongLong(
        found + (before != nullptr ? PyLong_AsUnsignedLongLong(before) : 0));
    if (total == nullptr || PyErr_Occurred() || PyDict_SetItem(counts, entity, total) < 0)
      Py_CLEAR(counts);
    Py_XDECREF(total);
  }
  return counts;
}

bool read_strings(PyObject* items, std::vector<std::string>* out) {
  PyObject* sequence = PySequence_Fast(items, "expected a sequence of bytes");
  if (sequence == nullptr) return false;
  for (Py_ssize_t index = 0; index < PySequence_Fast_GET_SIZE(sequence); ++index) {
    PyObject* item = PySequence_Fast_GET_ITEM(sequence, index);
    if (!PyBytes_Check(item)) {
      PyErr_SetString(PyExc_TypeError, "expected bytes");
      Py_DECREF(sequence);
      return false;
    }
    out->emplace_back(PyBytes_AS_STRING(item), PyBytes_GET_SIZE(item));
  }
  Py_DECREF(sequence);
  return true;
}

bool read_rules(PyObject* items, std::vector<FastRule>* out) {
  PyObject* sequence = PySequence_Fast(items, "expected a sequence of rules");
  if (sequence == nullptr) return false;
  bool ok = true;
  for (Py_ssize_t index = 0; ok && index < PySequence_Fast_GET_SIZE(sequence); ++index) {
    FastRule rule;
    const char* placeholder;
    Py_ssize_t length;
    PyObject* keys;
    int digits_only, word_start;
    ok = PyArg_ParseTuple(PySequence_Fast_GET_ITEM(sequence, index), "iy#Opp", &rule.kind,
                          &placeholder, &length, &keys, &digits_only, &word_start) &&
         read_strings(keys, &rule.ignore_keys);
    rule.placeholder.assign(placeholder, ok ? length : 0);
    rule.digits_only = digits_only;
    rule.word_start = word_start;
    if (ok) out->push_back(std::move(rule));
  }
  Py_DECREF(sequence);
  return ok;
}

int Record_init(RecordObject* self, PyObject* args, PyObject*) {
  PyObject *scanner, *issuers, *rules, *entities, *extensions;
  if (!PyArg_ParseTuple(args, "O!O!OO!O", &ScannerType, &scanner, &IssuerTableType, &issuers,
                        &rules, &PyList_Type, &entities, &extensions))
    return -1;
  auto parsed_rules = std::make_unique<std::vector<FastRule>>();
  auto parsed_extensions = std::make_unique<std::vector<std::string>>();
  if (!read_rules(rules, parsed_rules.get()) ||
      !read_strings(extensions, parsed_extensions.get()))
    return -1;
  if (PyList_GET_SIZE(entities) != static_cast<Py_ssize_t>(parsed_rules->size())) {
    PyErr_SetString(PyExc_ValueError, "one entity per rule");
    return -1;
  }
  Py_INCREF(scanner);
  Py_INCREF(issuers);
  Py_INCREF(entities);
  Py_XSETREF(self->scanner, reinterpret_cast<ScannerObject*>(scanner));
  Py_XSETREF(self->issuers, reinterpret_cast<IssuerTableObject*>(issuers));
  Py_XSETREF(self->entities, entities);
  delete self->rules;
  delete self->file_extensions;
  delete[] self->counts;
  self->counts = new std::atomic<unsigned long long>[parsed_rules->size()]();
  self->rules = parsed_rules.release();
  self->file_extensions = parsed_extensions.release();
  return 0;
}

void Record_dealloc(RecordObject* self) {
  Py_XDECREF(self->scanner);
  Py_XDECREF(self->issuers);
  Py_XDECREF(self->entities);
  delete self->rules;
  delete self->file_extensions;
  delete[] self->counts;
  Py_TYPE(self)->tp_free(reinterpret_cast<PyObject*>(self));
}

PyMethodDef record_methods[] = {
    {"redact", reinterpret_cast<PyCFunction>(Record_redact), METH_O,
     "redact(data) -> data (clean) | output (counted) | None (ask Python)."},
    {"redact_message", reinterpret_cast<PyCFunction>(Record_redact_message), METH_O,
     "redact_message(text) -> text (clean) | redacted str (counted) | None (ask Python)."},
    {"counts", reinterpret_cast<PyCFunction>(Record_counts), METH_NOARGS,
     "counts() -> {entity: findings redact() and LogRecordFilter counted}."},
    {"judge", reinterpret_cast<PyCFunction>(Record_judge), METH_O,
     "judge(data) -> ([(rule, start, end, settled)], [marker start]); unsettled: Python's."},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject RecordType = {PyVarObject_HEAD_INIT(nullptr, 0)};

// A stdlib logging.LogRecord redacted in place, for an app's usual record: a plain record as
// LogRecord.__init__ left it (maybe formatted once since), a str message with a tuple of
// arguments, no exception, no stack, no `extra=` field, no JSON or colour, a text the
// RecordRedactor settles alone. A record already redacted is checked again the same way:
// a filter may have changed its message since. Anything else is left untouched for the
// Python filter, which is the reference.

// The attributes looked at, in the order of kFieldNames.
enum Field { kName, kMsg, kArgs, kExcInfo, kExcText, kStackInfo, kFields };
const char* const kFieldNames[kFields] = {"name",     "msg",      "args",
                                          "exc_info", "exc_text", "stack_info"};

typedef struct {
  PyObject_HEAD
  RecordObject* redactor;
  PyObject* record_class;  // only this exact class: a subclass may render its message otherwise
  PyObject* done;          // the `args` that mark a record redacted
  PyObject* keys;     // a fresh record's attribute names in order, then those a formatter adds
  Py_ssize_t fresh;   // how many of `keys` a fresh record has
  PyObject* fallback;  // the Python filter, for every other record
  Py_ssize_t at[kFields];  // where each looked-at attribute stands in `keys`
} LogRecordObject;

PyObject* key_of(const LogRecordObject* self, Field field) {
  return PyTuple_GET_ITEM(self->keys, self->at[field]);
}

// Fills `values` (borrowed) when `attributes` holds a fresh record's names in order, maybe
// followed by those a formatter adds; `*formatted` then says whether they are there.
bool known_values(const LogRecordObject* self, PyObject* attributes, PyObject** values,
                  bool* formatted) {
  Py_ssize_t size = PyDict_GET_SIZE(attributes);
  if (!PyDict_CheckExact(attributes) || size < self->fresh || size > PyTuple_GET_SIZE(self->keys))
    return false;
  Py_ssize_t position = 0, index = 0;
  PyObject *key, *value;
  // Names are interned: an attribute the record was given later breaks the identity.
  while (PyDict_Next(attributes, &position, &key, &value)) {
    if (index >= size || key != PyTuple_GET_ITEM(self->keys, index)) return false;
    for (int field = 0; field < kFields; ++field)
      if (self->at[field] == index) values[field] = value;
    ++index;
  }
  *formatted = size > self->fresh;
  return true;
}

// Whether the Python filter would treat the record's fields as this path does; the stripe
// logger's records are counted there the first time.
bool plain_fields(PyObject* const* values, bool done) {
  PyObject* name = values[kName];
  bool counted = done || (PyUnicode_CheckExact(name) &&
                          PyUnicode_CompareWithASCIIString(name, "stripe") != 0);
  return counted && PyUnicode_CheckExact(values[kMsg]) &&
         (done || PyTuple_CheckExact(values[kArgs])) && values[kExcInfo] == Py_None &&
         values[kExcText] == Py_None && values[kStackInfo] == Py_None;
}

// getMessage() of a plain record: the message with its arguments; null when that fails.
PyObject* rendered_message(PyObject* const* values) {
  PyObject* message = Py_NewRef(values[kMsg]);
  PyObject* arguments = Py_NewRef(values[kArgs]);  // kept: their __str__ may change the record
  PyObject* text = PyTuple_GET_SIZE(arguments) == 0 ? Py_NewRef(message)
                                                     : PyUnicode_Format(message, arguments);
  Py_DECREF(message);
  Py_DECREF(arguments);
  return text;
}

// 1 when the record is now redacted in place, counted and marked done (or, `done` already,
// checked again); 0 when it is left untouched for Python; -1 (an exception set) when
// marking it failed after the message.
int redact_in_place(const LogRecordObject* self, PyObject* record, bool done) {
  if (reinterpret_cast<PyObject*>(Py_TYPE(record)) != self->record_class) return 0;
  PyObject* attributes = PyObject_GenericGetDict(record, nullptr);
  if (attributes == nullptr) return 0;
  PyObject* values[kFields];
  bool formatted = false;
  bool plain = known_values(self, attributes, values, &formatted) && plain_fields(values, done);
  Py_ssize_t size = PyDict_GET_SIZE(attributes);
  PyObject* text = !plain ? nullptr : done ? Py_NewRef(values[kMsg]) : rendered_message(values);
  // An argument's __str__ runs Python code, which could have given the record a field.
  if (text != nullptr && PyDict_GET_SIZE(attributes) != size) Py_CLEAR(text);
  Py_DECREF(attributes);  // the record keeps it
  PyObject* redacted = text != nullptr ? redacted_text(self->redactor, text) : nullptr;
  bool unchanged = redacted == text;
  Py_XDECREF(text);
  if (redacted == nullptr) return 0;  // deferred, or a failure that Python meets again
  if (done && unchanged && !formatted) {
    Py_DECREF(redacted);
    return 1;
  }
  // The message first: should the mark then fail, Python redacts the redacted text again.
  int failed = PyObject_SetAttr(record, key_of(self, kMsg), redacted);
  if (!failed && formatted)  // as Python sets it: a formatter renders it anew anyway
    failed = PyObject_SetAttr(record, PyTuple_GET_ITEM(self->keys, self->fresh), redacted);
  Py_DECREF(redacted);
  if (failed) return 0;
  if (done) return 1;
  return PyObject_SetAttr(record, key_of(self, kArgs), self->done) == 0 ? 1 : -1;
}

// filter(record): logging's filter call. A plain record is redacted (or checked again) here,
// any other goes to the fallback (the Python filter), whose answer it gives.
PyObject* LogRecord_filter(LogRecordObject* self, PyObject* record) {
  if (!initialised(self->keys)) return nullptr;
  PyObject* args = PyObject_GetAttr(record, key_of(self, kArgs));
  bool done = args == self->done;
  Py_XDECREF(args);
  if (args != nullptr && redact_in_place(self, record, done) == 1) Py_RETURN_TRUE;
  PyErr_Clear();  // whatever failed here, the Python filter meets it and fails closed
  return PyObject_CallOneArg(self->fallback, record);
}

int LogRecord_init(LogRecordObject* self, PyObject* args, PyObject*) {
  PyObject *redactor, *record_class, *done, *fresh, *formatted, *fallback;
  if (!PyArg_ParseTuple(args, "O!O!OO!O!O", &RecordType, &redactor, &PyType_Type,
                        &record_class, &done, &PyTuple_Type, &fresh, &PyTuple_Type, &formatted,
                        &fallback))
    return -1;
  if (PyTuple_GET_SIZE(formatted) == 0 ||
      PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(formatted, 0), "message") != 0) {
    PyErr_SetString(PyExc_ValueError, "a formatter's names start with message");
    return -1;
  }
  PyObject* keys = PySequence_Concat(fresh, formatted);
  if (keys == nullptr) return -1;
  for (int field = 0; field < kFields; ++field) {
    self->at[field] = -1;
    for (Py_ssize_t index = 0; index < PyTuple_GET_SIZE(keys); ++index) {
      PyObject* key = PyTuple_GET_ITEM(keys, index);
      if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, kFieldNames[field]) == 0)
        self->at[field] = index;
    }
    if (self->at[field] < 0 || self->at[field] >= PyTuple_GET_SIZE(fresh)) {
      PyErr_Format(PyExc_ValueError, "a fresh record has no %s attribute", kFieldNames[field]);
      Py_DECREF(keys);
      return -1;
    }
  }
  Py_XSETREF(self->redactor, reinterpret_cast<RecordObject*>(Py_NewRef(redactor)));
  Py_XSETREF(self->record_class, Py_NewRef(record_class));
  Py_XSETREF(self->done, Py_NewRef(done));
  Py_XSETREF(self->keys, keys);
  Py_XSETREF(self->fallback, Py_NewRef(fallback));
  self->fresh = PyTuple_GET_SIZE(fresh);
  return 0;
}

// The fallback is usually a bound method of the filter that holds this object: a cycle.
int LogRecord_traverse(LogRecordObject* self, visitproc visit, void* arg) {
  Py_VISIT(self->redactor);
  Py_VISIT(self->record_class);
  Py_VISIT(self->done);
  Py_VISIT(self->keys);
  Py_VISIT(self->fallback);
  return 0;
}

int LogRecord_clear(LogRecordObject* self) {
  Py_CLEAR(self->redactor);
  Py_CLEAR(self->record_class);
  Py_CLEAR(self->done);
  Py_CLEAR(self->keys);
  Py_CLEAR(self->fallback);
  return 0;
}

void LogRecord_dealloc(LogRecordObject* self) {
  PyObject_GC_UnTrack(self);
  LogRecord_clear(self);
  Py_TYPE(self)->tp_free(reinterpret_cast<PyObject*>(self));
}

PyMethodDef log_record_methods[] = {
    {"filter", reinterpret_cast<PyCFunction>(LogRecord_filter), METH_O,
     "filter(record) -> True, the record redacted here, or the fallback's answer."},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject LogRecordType = {PyVarObject_HEAD_INIT(nullptr, 0)};

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

// Fills in one of the module's types; all are plain, with __init__ taking arguments, and
// those that `traverse` may hold Python objects in a cycle.
int ready_type(PyTypeObject* type, const char* name, Py_ssize_t size, const char* doc,
               initproc init, destructor dealloc, PyMethodDef* methods,
               traverseproc traverse = nullptr, inquiry clear = nullptr) {
  type->tp_name = name;
  type->tp_basicsize = size;
  type->tp_flags = Py_TPFLAGS_DEFAULT | (traverse != nullptr ? Py_TPFLAGS_HAVE_GC : 0);
  type->tp_traverse = traverse;
  type->tp_clear = clear;
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
                 reinterpret_cast<destructor>(IssuerTable_dealloc), issuer_table_methods) < 0 ||
      ready_type(&RecordType, "redactor._native.RecordRedactor", sizeof(RecordObject),
                 "RecordRedactor(scanner, issuers, rules, entities, extensions): short texts.",
                 reinterpret_cast<initproc>(Record_init),
                 reinterpret_cast<destructor>(Record_dealloc), record_methods) < 0 ||
      ready_type(&LogRecordType, "redactor._native.LogRecordFilter", sizeof(LogRecordObject),
                 "LogRecordFilter(redactor, record_class, done, keys, fallback): a filter.",
                 reinterpret_cast<initproc>(LogRecord_init),
                 reinterpret_cast<destructor>(LogRecord_dealloc), log_record_methods,
                 reinterpret_cast<traverseproc>(LogRecord_traverse),
                 reinterpret_cast<inquiry>(LogRecord_clear)) < 0)
    return nullptr;
  PyObject* module = PyModule_Create(&native_module);
  if (module == nullptr) return nullptr;
  if (PyModule_AddObjectRef(module, "Scanner", reinterpret_cast<PyObject*>(&ScannerType)) < 0 ||
      PyModule_AddObjectRef(module, "IssuerTable",
                            reinterpret_cast<PyObject*>(&IssuerTableType)) < 0 ||
      PyModule_AddObjectRef(module, "RecordRedactor", reinterpret_cast<PyObject*>(&RecordType)) <
          0 ||
      PyModule_AddObjectRef(module, "LogRecordFilter",
                            reinterpret_cast<PyObject*>(&LogRecordType)) < 0) {
    Py_DECREF(module);
    return nullptr;
  }
  return module;
}
