// The C/C++ back-door checks of `probity source` on libclang's AST (the stable C API,
// clang-c/Index.h; docs/source-audit.md, "C and C++"):
//   literal-credential-check  an input compared with a string literal (strcmp family, ==) whose
//                             matching branch grants access (calls a success/login/exec/setuid
//                             path, sets an auth flag, or returns success from an auth function)
//   hidden-listener-shell     bind/listen and exec of a shell in one function
//   magic-value-backdoor      an input compared with a chosen-looking integer (0xDEADBEEF) whose
//                             matching branch starts a shell, takes privileges or switches on
//                             a debug/maintenance/remote-access mode
// Files are parsed in libclang's single-file mode: #includes are not followed, and a #if on a
// macro no header defined parses all its branches, so code behind unknown configuration options
// is seen too (an unconfigured tree has no config.h). Unknown types are errors libclang recovers
// from (KeepGoing); calls, comparisons, branches and literals stay in the AST.
#include <clang-c/Index.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <regex>

#include "core/text.hpp"
#include "source/internal.hpp"

namespace probity::source_detail {
namespace {

std::string str(CXString s) {
  const char* c = clang_getCString(s);
  std::string out = c ? c : "";
  clang_disposeString(s);
  return out;
}

bool contains_any(const std::string& s, std::initializer_list<std::string_view> words) {
  const std::string l = lower(s);
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return l.find(w) != std::string::npos; });
}

void visit(CXCursor c, const std::function<CXChildVisitResult(CXCursor)>& fn) {
  clang_visitChildren(
      c,
      [](CXCursor cur, CXCursor, CXClientData d) {
        return (*static_cast<const std::function<CXChildVisitResult(CXCursor)>*>(d))(cur);
      },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

std::vector<CXCursor> children(CXCursor c) {
  std::vector<CXCursor> out;
  visit(c, [&](CXCursor k) {
    out.push_back(k);
    return CXChildVisit_Continue;
  });
  return out;
}

/// Strips implicit casts, parentheses and unexposed wrappers.
CXCursor strip(CXCursor c) {
  for (int i = 0; i < 8; ++i) {
    const auto k = clang_getCursorKind(c);
    if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr && k != CXCursor_CStyleCastExpr &&
        k != CXCursor_CXXFunctionalCastExpr && k != CXCursor_CXXStaticCastExpr &&
        k != CXCursor_CXXConstCastExpr && k != CXCursor_CXXReinterpretCastExpr)
      return c;
    auto kids = children(c);
    if (kids.empty()) return c;
    c = kids.back();
  }
  return c;
}

std::uint32_t line_of(CXCursor c) {
  unsigned line = 0;
  clang_getSpellingLocation(clang_getCursorLocation(c), nullptr, &line, nullptr, nullptr);
  return line;
}

bool in_main_file(CXCursor c) {
  return clang_Location_isFromMainFile(clang_getCursorLocation(c));
}

/// The tokens of a cursor's extent.
std::vector<std::string> tokens(CXTranslationUnit tu, CXCursor c) {
  CXToken* toks = nullptr;
  unsigned n = 0;
  clang_tokenize(tu, clang_getCursorExtent(c), &toks, &n);
  std::vector<std::string> out;
  out.reserve(n);
  for (unsigned i = 0; i < n && i < 4096; ++i)
    out.push_back(str(clang_getTokenSpelling(tu, toks[i])));
  clang_disposeTokens(tu, toks, n);
  return out;
}

std::string text_of(CXTranslationUnit tu, CXCursor c, std::size_t cap = 160) {
  std::string s;
  for (const auto& t : tokens(tu, c)) {
    if (!s.empty() &&
        (std::isalnum(static_cast<unsigned char>(t[0])) || t[0] == '_' || t[0] == '"') &&
        (std::isalnum(static_cast<unsigned char>(s.back())) || s.back() == '_' || s.back() == '"'))
      s += ' ';
    s += t;
    if (s.size() > cap) return s.substr(0, cap) + "...";
  }
  return s;
}

/// The names a subtree refers to (variables, members, called functions), lower case.
std::string names_in(CXCursor c) {
  std::string out;
  std::function<CXChildVisitResult(CXCursor)> fn = [&](CXCursor k) {
    const auto kind = clang_getCursorKind(k);
    if (kind == CXCursor_DeclRefExpr || kind == CXCursor_MemberRefExpr)
      out += lower(str(clang_getCursorSpelling(k))) + " ";
    if (out.size() < 512) visit(k, fn);
    return CXChildVisit_Continue;
  };
  if (clang_getCursorKind(c) == CXCursor_DeclRefExpr ||
      clang_getCursorKind(c) == CXCursor_MemberRefExpr)
    out += lower(str(clang_getCursorSpelling(c))) + " ";
  visit(c, fn);
  return out;
}

bool is_compare_function(const std::string& name) {
  static const char* const kNames[] = {"strcmp",      "strncmp",    "memcmp",    "strcasecmp",
                                       "strncasecmp", "bcmp",       "strcoll",   "wcscmp",
                                       "g_strcmp0",   "operator==", "operator!="};
  return std::find_if(std::begin(kNames), std::end(kNames),
                      [&](const char* n) { return name == n; }) != std::end(kNames);
}

struct Comparison {
  CXCursor call;
  std::string literal;  ///< the string literal compared with (quoted, as in the source)
  std::string operand;  ///< names in the other operand
  bool equal_branch_is_then = true;
};

/// A comparison of something with a string literal in `cond`, and which branch is "equal".
std::optional<Comparison> literal_comparison(CXTranslationUnit tu, CXCursor cond) {
  std::optional<Comparison> found;
  std::function<CXChildVisitResult(CXCursor)> fn = [&](CXCursor k) {
    if (found) return CXChildVisit_Break;
    if (clang_getCursorKind(k) == CXCursor_CallExpr) {
      const std::string name = str(clang_getCursorSpelling(k));
      const int nargs = clang_Cursor_getNumArguments(k);
      if (is_compare_function(name) && nargs >= 2) {
        std::string lit, other;
        for (int i = 0; i < 2; ++i) {
          CXCursor a = strip(clang_Cursor_getArgument(k, unsigned(i)));
          if (clang_getCursorKind(a) == CXCursor_StringLiteral && lit.empty())
            lit = str(clang_getCursorSpelling(a));
          else
            other += names_in(a);
        }
        if (!lit.empty() && lit != "\"\"" && !other.empty()) {
          Comparison cmp{k, lit, other, true};
          if (name == "operator!=") {
            cmp.equal_branch_is_then = false;
          } else if (name != "operator==") {
            // strcmp(...) is "differs" when used as a truth value: equal when negated or == 0.
            const auto ct = tokens(tu, cond), kt = tokens(tu, k);
            bool equal = false;
            for (std::size_t i = 0; i + kt.size() <= ct.size() && !kt.empty(); ++i) {
              if (!std::equal(kt.begin(), kt.end(), ct.begin() + long(i))) continue;
              const bool neg = i > 0 && ct[i - 1] == "!";
              const std::size_t after = i + kt.size();
              const bool eq0 = after + 1 < ct.size() && ct[after] == "==" && ct[after + 1] == "0";
              const bool zero_eq = i >= 2 && ct[i - 1] == "==" && ct[i - 2] == "0";
              equal = neg || eq0 || zero_eq;
              break;
            }
            cmp.equal_branch_is_then = equal;
          }
          found = cmp;
          return CXChildVisit_Break;
        }
      }
    }
    visit(k, fn);
    return found ? CXChildVisit_Break : CXChildVisit_Continue;
  };
  fn(cond);
  return found;
}

bool nonzero_literal(CXTranslationUnit tu, CXCursor e) {
  e = strip(e);
  const auto k = clang_getCursorKind(e);
  if (k == CXCursor_CXXBoolLiteralExpr) return text_of(tu, e) == "true";
  if (k == CXCursor_IntegerLiteral) {
    const std::string t = text_of(tu, e);
    return !t.empty() && t != "0";
  }
  if (k == CXCursor_DeclRefExpr) {
    const std::string n = str(clang_getCursorSpelling(e));
    return n == "TRUE" || n == "true";
  }
  const std::string t = text_of(tu, e);
  return t == "TRUE" || t == "true" || t == "1";
}

/// What in a branch grants something ("" if nothing does): a call whose name matches
/// `grant_call`, a name matching `flag` set to a non-zero literal, or (in an authentication
/// function) a non-zero return.
std::string grant_in(CXTranslationUnit tu, CXCursor branch, bool auth_function,
                     const std::regex& kGrantCall, const std::regex& kFlag) {
  std::string why;
  std::function<CXChildVisitResult(CXCursor)> fn = [&](CXCursor k) {
    if (!why.empty()) return CXChildVisit_Break;
    const auto kind = clang_getCursorKind(k);
    if (kind == CXCursor_CallExpr) {
      const std::string n = lower(str(clang_getCursorSpelling(k)));
      if (!n.empty() && std::regex_search(n, kGrantCall)) {
        why = "calls " + n;
        return CXChildVisit_Break;
      }
    } else if (kind == CXCursor_BinaryOperator || kind == CXCursor_CompoundAssignOperator) {
      auto kids = children(k);
      if (kids.size() == 2) {
        const auto t = tokens(tu, k);
        const auto lhs_tokens = tokens(tu, kids[0]);
        const bool assign = t.size() > lhs_tokens.size() && t[lhs_tokens.size()] == "=";
        const std::string lhs = names_in(kids[0]);
        if (assign && std::regex_search(lhs, kFlag) && nonzero_literal(tu, kids[1])) {
          why = "sets " + text_of(tu, kids[0]) + " to " + text_of(tu, kids[1]);
          return CXChildVisit_Break;
        }
      }
    } else if (kind == CXCursor_ReturnStmt && auth_function) {
      auto kids = children(k);
      if (!kids.empty() && nonzero_literal(tu, kids[0])) {
        why = "returns " + text_of(tu, kids[0]) + " from an authentication function";
        return CXChildVisit_Break;
      }
    }
    visit(k, fn);
    return why.empty() ? CXChildVisit_Continue : CXChildVisit_Break;
  };
  fn(branch);
  return why;
}

/// What in a branch grants access ("" if nothing does).
std::string grant_in(CXTranslationUnit tu, CXCursor branch, bool auth_function) {
  static const std::regex kGrantCall(
      R"((success|grant|authenticated|permit|^do_login|^login$|^exec[lv]p?e?$|^execve|^system$|^popen$|^setuid$|^setgid$|^setresuid$|^seteuid$|spawn_?shell|run_?shell))");
  static const std::regex kFlag(
      R"((auth|logged|granted|allowed|permit|success|valid|is_?root|admin))");
  return grant_in(tu, branch, auth_function, kGrantCall, kFlag);
}

/// What a branch behind a magic value switches on ("" if nothing): a shell, privileges, a
/// login, or a debug/maintenance/remote-access mode. Not "valid" or "success": a file format's
/// magic number is checked that way in honest code.
std::string debug_grant_in(CXTranslationUnit tu, CXCursor branch) {
  static const std::regex kCall(
      R"((^exec[lv]p?e?$|^execve|^system$|^popen$|^setuid$|^setgid$|^setresuid$|^seteuid$|spawn_?shell|run_?shell|^do_login|^login$|telnetd?|backdoor|unlock|debug_?shell|enable_?debug|factory_?mode))");
  static const std::regex kFlag(
      R"((debug|shell|telnet|is_?root|admin|unlock|backdoor|factory|engineer|maint|granted|auth))");
  return grant_in(tu, branch, false, kCall, kFlag);
}

struct MagicComparison {
  CXCursor op;
  std::string literal;  ///< as written
  std::string operand;  ///< names in the other operand
  bool equal_branch_is_then = true;
};

/// An integer that looks chosen rather than counted: at least 0x10000, not a power of two,
/// not a mask of ones, not a round multiple of 0x1000, with at least three distinct hex digits
/// (0xDEADBEEF, 0x1337C0DE, 31337 is too small and too common a port).
bool magic_number(const std::string& literal) {
  std::string t;
  for (char c : literal)
    if (std::isxdigit(static_cast<unsigned char>(c)) || c == 'x' || c == 'X') t += c;
  unsigned long long v = 0;
  try {
    v = std::stoull(t, nullptr, 0);
  } catch (...) {
    return false;
  }
  if (v < 0x10000 || (v & (v - 1)) == 0 || (v & (v + 1)) == 0 || v % 0x1000 == 0) return false;
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", v);
  std::string digits(hex);
  std::sort(digits.begin(), digits.end());
  return std::unique(digits.begin(), digits.end()) - digits.begin() >= 3;
}

/// `x == MAGIC` (or !=) in `cond`, the other operand naming something.
std::optional<MagicComparison> magic_comparison(CXTranslationUnit tu, CXCursor cond) {
  std::optional<MagicComparison> found;
  std::function<CXChildVisitResult(CXCursor)> fn = [&](CXCursor k) {
    if (found) return CXChildVisit_Break;
    if (clang_getCursorKind(k) == CXCursor_BinaryOperator) {
      auto kids = children(k);
      if (kids.size() == 2) {
        const auto t = tokens(tu, k);
        const auto lhs_tokens = tokens(tu, kids[0]);
        const std::string op = t.size() > lhs_tokens.size() ? t[lhs_tokens.size()] : "";
        if (op == "==" || op == "!=") {
          for (int side = 0; side < 2; ++side) {
            CXCursor lit = strip(kids[std::size_t(side)]);
            if (clang_getCursorKind(lit) != CXCursor_IntegerLiteral) continue;
            const std::string text = text_of(tu, lit);
            const std::string other = names_in(kids[std::size_t(1 - side)]);
            if (magic_number(text) && !other.empty()) {
              found = MagicComparison{k, text, other, op == "=="};
              return CXChildVisit_Break;
            }
          }
        }
      }
    }
    visit(k, fn);
    return found ? CXChildVisit_Break : CXChildVisit_Continue;
  };
  fn(cond);
  return found;
}

bool secret_name(const std::string& names) {
  return contains_any(names, {"pass", "pw", "pwd", "secret", "token", "key", "cred", "magic", "pin",
                              "auth", "code", "backdoor", "debug"});
}

/// Protocol and option words compared all the time in honest code (SSH method names, option
/// values): a comparison with one of them is a dispatch, not a credential.
bool protocol_word(const std::string& quoted) {
  static const char* const kWords[] = {"\"none\"",      "\"password\"",
                                       "\"publickey\"", "\"keyboard-interactive\"",
                                       "\"hostbased\"", "\"yes\"",
                                       "\"no\"",        "\"root\"",
                                       "\"-\"",         "\"gssapi-with-mic\"",
                                       "\"any\"",       "\"*\""};
  return std::find_if(std::begin(kWords), std::end(kWords),
                      [&](const char* w) { return quoted == w; }) != std::end(kWords);
}

void check_function(CXTranslationUnit tu, CXCursor fn_cursor, std::vector<CodeHit>& hits) {
  const std::string fname = str(clang_getCursorSpelling(fn_cursor));
  const bool auth_function = contains_any(fname, {"auth", "login", "passw", "check_pw", "checkpw",
                                                  "verify_pass", "cred", "validate_user"});
  bool listens = false, literal_port = false;
  std::string shell_exec;
  std::uint32_t listen_line = 0;
  std::function<CXChildVisitResult(CXCursor)> fn = [&](CXCursor k) {
    const auto kind = clang_getCursorKind(k);
    if (kind == CXCursor_IfStmt) {
      auto kids = children(k);
      // [init?] cond then [else]: the condition is the first expression child.
      if (kids.size() >= 2) {
        CXCursor cond = kids[0], then_b = kids[1];
        std::optional<CXCursor> else_b;
        if (kids.size() > 2) else_b = kids[2];
        if (auto magic = magic_comparison(tu, cond)) {
          std::optional<CXCursor> branch =
              magic->equal_branch_is_then ? std::optional<CXCursor>(then_b) : else_b;
          const std::string why = branch ? debug_grant_in(tu, *branch) : std::string();
          if (!why.empty())
            hits.push_back({"magic-value-backdoor", "remote-access", Severity::kHigh,
                            line_of(magic->op), text_of(tu, cond),
                            "in " + fname +
                                "(): " + magic->operand.substr(0, magic->operand.find(' ')) +
                                " is compared with the magic value " + magic->literal +
                                " and the matching branch " + why});
        }
        if (auto cmp = literal_comparison(tu, cond)) {
          std::optional<CXCursor> branch =
              cmp->equal_branch_is_then ? std::optional<CXCursor>(then_b) : else_b;
          if (branch) {
            const std::string why = grant_in(tu, *branch, auth_function);
            if (!why.empty() && !protocol_word(cmp->literal)) {
              const bool high = secret_name(cmp->operand) || auth_function;
              hits.push_back({"literal-credential-check", "credentials",
                              high ? Severity::kHigh : Severity::kMedium, line_of(cmp->call),
                              text_of(tu, cond),
                              "in " + fname +
                                  "(): " + cmp->operand.substr(0, cmp->operand.find(' ')) +
                                  " is compared with the literal " + cmp->literal.substr(0, 80) +
                                  " and the matching branch " + why});
            }
          }
        }
      }
    } else if (kind == CXCursor_CallExpr) {
      const std::string n = str(clang_getCursorSpelling(k));
      if (n == "bind" || n == "listen") {
        listens = true;
        if (!listen_line) listen_line = line_of(k);
      }
      if (n == "htons") {
        const int na = clang_Cursor_getNumArguments(k);
        if (na == 1 &&
            clang_getCursorKind(strip(clang_Cursor_getArgument(k, 0))) == CXCursor_IntegerLiteral)
          literal_port = true;
      }
      if (n.starts_with("exec") || n == "system" || n == "popen") {
        const int na = clang_Cursor_getNumArguments(k);
        for (int i = 0; i < na && i < 4; ++i) {
          CXCursor a = strip(clang_Cursor_getArgument(k, unsigned(i)));
          if (clang_getCursorKind(a) != CXCursor_StringLiteral) continue;
          const std::string lit = str(clang_getCursorSpelling(a));
          static const std::regex kShell(R"("(/bin/|/usr/bin/)?(ba|a|da|z|k)?sh( |"|$))");
          if (std::regex_search(lit, kShell)) shell_exec = n + "(" + lit + ")";
        }
      }
    }
    visit(k, fn);
    return CXChildVisit_Continue;
  };
  visit(fn_cursor, fn);
  if (listens && !shell_exec.empty())
    hits.push_back({"hidden-listener-shell", "remote-access",
                    literal_port ? Severity::kHigh : Severity::kMedium, listen_line, shell_exec,
                    "in " + fname + "(): a socket is bound/listened on" +
                        std::string(literal_port ? " a literal port" : "") +
                        " and a shell is executed (" + shell_exec + ")"});
}

}  // namespace

bool is_c_file(std::string_view p) {
  for (std::string_view ext : {".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"})
    if (p.ends_with(ext)) return true;
  return false;
}

bool worth_parsing(std::string_view text) {
  // Necessary for a finding: a comparison or a socket call, and a granting action. Words as
  // substrings, so that a wrapper (xstrcmp, do_exec) counts.
  const bool compares =
      text.find("cmp") != std::string_view::npos || text.find("==") != std::string_view::npos;
  const bool sockets =
      text.find("bind") != std::string_view::npos || text.find("listen") != std::string_view::npos;
  if (!compares && !sockets) return false;
  for (std::string_view w :
       {"exec", "system", "popen", "setuid", "setgid", "setresuid", "success", "grant", "login",
        "auth", "permit", "passw", "logged", "valid", "admin"})
    if (text.find(w) != std::string_view::npos) return true;
  return false;
}

ClangParser::ClangParser() {
  index_ = clang_createIndex(0, 0);
}
ClangParser::~ClangParser() {
  if (index_) clang_disposeIndex(static_cast<CXIndex>(index_));
}

ParseOutcome ClangParser::parse(const std::filesystem::path& root,
                                const std::filesystem::path& file) {
  ParseOutcome out;
  const std::string p = file.string();
  const bool cpp = !(p.ends_with(".c") || p.ends_with(".h"));
  const std::string inc_root = "-I" + root.string();
  const std::string inc_include = "-I" + (root / "include").string();
  std::vector<const char*> args = {"-x",
                                   cpp ? "c++" : "c",
                                   "-std=gnu11",
                                   "-w",
                                   "-ferror-limit=0",
                                   "-Wno-everything",
                                   inc_root.c_str(),
                                   inc_include.c_str()};
  if (cpp) args[2] = "-std=gnu++17";
  CXTranslationUnit tu = nullptr;
  const unsigned flags = CXTranslationUnit_KeepGoing | CXTranslationUnit_SingleFileParse;
  const CXErrorCode rc =
      clang_parseTranslationUnit2(static_cast<CXIndex>(index_), p.c_str(), args.data(),
                                  int(args.size()), nullptr, 0, flags, &tu);
  if (rc != CXError_Success || !tu) {
    out.first_error = "libclang could not parse the file (error " + std::to_string(int(rc)) + ")";
    return out;
  }
  out.parsed = true;
  const unsigned nd = clang_getNumDiagnostics(tu);
  for (unsigned i = 0; i < nd; ++i) {
    CXDiagnostic d = clang_getDiagnostic(tu, i);
    const auto sev = clang_getDiagnosticSeverity(d);
    if (sev >= CXDiagnostic_Error) {
      if (!out.errors) {
        unsigned line = 0;
        clang_getSpellingLocation(clang_getDiagnosticLocation(d), nullptr, &line, nullptr, nullptr);
        out.first_error = std::to_string(line) + ": " + str(clang_getDiagnosticSpelling(d));
      }
      ++out.errors;
    }
    clang_disposeDiagnostic(d);
  }
  CXCursor top = clang_getTranslationUnitCursor(tu);
  std::function<CXChildVisitResult(CXCursor)> fn = [&](CXCursor k) {
    if (!in_main_file(k)) return CXChildVisit_Continue;
    const auto kind = clang_getCursorKind(k);
    if ((kind == CXCursor_FunctionDecl || kind == CXCursor_CXXMethod ||
         kind == CXCursor_Constructor || kind == CXCursor_FunctionTemplate) &&
        clang_isCursorDefinition(k)) {
      check_function(tu, k, out.hits);
      return CXChildVisit_Continue;
    }
    if (kind == CXCursor_Namespace || kind == CXCursor_ClassDecl || kind == CXCursor_StructDecl ||
        kind == CXCursor_LinkageSpec || kind == CXCursor_UnexposedDecl)
      return CXChildVisit_Recurse;
    return CXChildVisit_Continue;
  };
  visit(top, fn);
  clang_disposeTranslationUnit(tu);
  return out;
}

}  // namespace probity::source_detail
