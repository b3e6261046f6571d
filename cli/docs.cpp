// The man page and the bash and zsh completions, generated from the CLI's own command tree at
// build time (`probity --generate man|bash|zsh`), so they always list the flags the binary has.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "commands.hpp"
#include "probity_build_info.hpp"

namespace probity::cli {
namespace {

/// Visible subcommands (a hidden one has an empty group).
std::vector<const CLI::App*> subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* a) { return !a->get_group().empty(); });
}

struct Flag {
  std::vector<std::string> names;  ///< "--out", "-o"
  std::string value;               ///< "" for a flag, else the value's type (e.g. TEXT)
  std::vector<std::string> choices;
  std::string description, default_value;
  bool required = false;
};

std::vector<Flag> flags_of(const CLI::App& app) {
  std::vector<Flag> out;
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_positional() || o->get_group().empty()) continue;
    Flag f;
    for (const auto& l : o->get_lnames()) f.names.push_back("--" + l);
    for (const auto& s : o->get_snames()) f.names.push_back("-" + s);
    if (o->get_type_size() > 0) {
      f.value = o->get_type_name();
      // A validator's choices show as TYPE:{a,b,c}.
      if (const auto open = f.value.find(":{"); open != std::string::npos) {
        const auto close = f.value.find('}', open);
        std::string list = f.value.substr(open + 2, close - open - 2);
        f.value.resize(open);
        for (std::size_t at = 0; at <= list.size();) {
          const auto comma = std::min(list.find(',', at), list.size());
          if (comma > at) f.choices.push_back(list.substr(at, comma - at));
          at = comma + 1;
        }
      }
    }
    f.description = o->get_description();
    f.default_value = o->get_default_str();
    f.required = o->get_required();
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<const CLI::Option*> positionals(const CLI::App& app) {
  std::vector<const CLI::Option*> out;
  for (const CLI::Option* o : app.get_options())
    if (o->get_positional()) out.push_back(o);
  return out;
}

/// Every command path: "" (the top), "scan", "db", "db import", ...
void walk(const CLI::App& app, const std::string& path,
          std::vector<std::pair<std::string, const CLI::App*>>& out) {
  out.emplace_back(path, &app);
  for (const CLI::App* s : subcommands(app))
    walk(*s, path.empty() ? s->get_name() : path + " " + s->get_name(), out);
}

std::string roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  return out;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

/// One line, safe inside single quotes in a shell script and in a zsh _describe item.
std::string shell_text(const std::string& text, bool zsh) {
  std::string out;
  for (char c : first_line(text)) {
    if (c == '\'')
      out += "'\\''";
    else if (zsh && c == ':')
      out += "\\:";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string generate_man(const CLI::App& top) {
  std::vector<std::pair<std::string, const CLI::App*>> all;
  walk(top, "", all);
  std::string m;
  m += fmt::format(".TH PROBITY 1 \"{}\" \"probity {}\" \"User Commands\"\n", PROBITY_BUILD_DATE,
                   PROBITY_VERSION);
  m += ".SH NAME\nprobity \\- test network\\-equipment firmware for back doors, offline\n";
  m += ".SH SYNOPSIS\n.B probity\n\\fISUBCOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]\n";
  m += ".br\n.B probity\n\\fB\\-\\-version\\fR | \\fB\\-\\-help\\fR\n";
  m += ".SH DESCRIPTION\n" + roff(top.get_description()) + "\n";
  m += ".SH SUBCOMMANDS\n";
  for (const auto& [path, app] : all) {
    if (path.empty()) continue;
    std::string usage = "probity " + path;
    for (const CLI::Option* p : positionals(*app))
      usage += " " + std::string(p->get_required() ? "" : "[") + p->get_name() +
               (p->get_expected_max() > 1 ? "..." : "") + (p->get_required() ? "" : "]");
    if (!subcommands(*app).empty()) usage += " SUBCOMMAND";
    m += ".SS \"" + roff(usage) + "\"\n";
    m += roff(app->get_description()) + "\n";
    for (const CLI::Option* p : positionals(*app))
      m += ".TP\n\\fI" + roff(p->get_name()) + "\\fR\n" + roff(p->get_description()) + "\n";
    for (const Flag& f : flags_of(*app)) {
      std::string head;
      for (const auto& n : f.names)
        head += (head.empty() ? "" : ", ") + ("\\fB" + roff(n) + "\\fR");
      if (!f.value.empty()) {
        std::string v = f.value;
        if (!f.choices.empty()) {
          v.clear();
          for (const auto& c : f.choices) v += (v.empty() ? "" : "|") + c;
        }
        head += " \\fI" + roff(v) + "\\fR";
      }
      std::string text = f.description;
      if (f.required) text += " (required)";
      if (!f.default_value.empty()) text += " [default: " + f.default_value + "]";
      m += ".TP\n" + head + "\n" + roff(text) + "\n";
    }
  }
  m += ".SH EXIT STATUS\n"
       ".TP\n0\ndone (for verdicts: pass)\n"
       ".TP\n1\na verdict failed (policy, a \\-\\-fail\\-on gate, equivalence, verification)\n"
       ".TP\n2\nbad usage or unreadable input\n"
       ".TP\n3\ninconclusive: an image was not fully seen, so it is not a pass\n";
  m += ".SH ENVIRONMENT\n"
       ".TP\nPROBITY_DATA_DIR\nThe data directory (signatures, rules, credentials lists, "
       "end\\-of\\-life data, the default policy and vulnerability database); default "
       "PREFIX/share/probity beside an installed binary.\n"
       ".TP\nPROBITY_DB\nThe vulnerability database used without \\-\\-db.\n";
  m += ".SH FILES\nEvery subcommand that writes a directory (\\-\\-out) creates it, refuses a "
       "non\\-empty one, and with \\-\\-force replaces an earlier probity output there.\n";
  m += ".SH SEE ALSO\nThe README and docs/ of the probity source tree.\n";
  return m;
}

std::string generate_bash_completion(const CLI::App& top) {
  std::vector<std::pair<std::string, const CLI::App*>> all;
  walk(top, "", all);
  std::string subs_case, flags_case, values_case;
  for (const auto& [path, app] : all) {
    std::string subs, flags;
    for (const CLI::App* s : subcommands(*app)) subs += (subs.empty() ? "" : " ") + s->get_name();
    for (const Flag& f : flags_of(*app))
      for (const auto& n : f.names) {
        flags += (flags.empty() ? "" : " ") + n;
        if (!f.choices.empty()) {
          std::string choices;
          for (const auto& c : f.choices) choices += (choices.empty() ? "" : " ") + c;
          values_case += fmt::format("    '{}|{}') values='{}' ;;\n", path, n, choices);
        }
      }
    subs_case += fmt::format("      '{}') subs='{}' ;;\n", path, subs);
    flags_case += fmt::format("    '{}') subs='{}'; flags='{}' ;;\n", path, subs, flags);
  }
  return fmt::format(
      "# bash completion for probity (generated by `probity --generate bash`)\n"
      "_probity() {{\n"
      "  local cur=\"${{COMP_WORDS[COMP_CWORD]}}\" prev=\"${{COMP_WORDS[COMP_CWORD-1]}}\"\n"
      "  local path='' i w subs flags values\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    w=\"${{COMP_WORDS[i]}}\"\n"
      "    [[ $w == -* ]] && continue\n"
      "    case \"$path\" in\n"
      "{}"
      "      *) subs='' ;;\n"
      "    esac\n"
      "    [[ \" $subs \" == *\" $w \"* ]] && path=\"${{path:+$path }}$w\"\n"
      "  done\n"
      "  case \"$path\" in\n"
      "{}"
      "    *) subs=''; flags='' ;;\n"
      "  esac\n"
      "  values=''\n"
      "  case \"$path|$prev\" in\n"
      "{}"
      "  esac\n"
      "  if [[ -n $values ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$values\" -- \"$cur\"))\n"
      "  elif [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
      "  elif [[ -n $subs ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  fi\n"
      "}}\n"
      "complete -o filenames -F _probity probity\n",
      subs_case, flags_case, values_case);
}

std::string generate_zsh_completion(const CLI::App& top) {
  std::vector<std::pair<std::string, const CLI::App*>> all;
  walk(top, "", all);
  std::string subs_case, items_case, values_case;
  for (const auto& [path, app] : all) {
    std::string names, subs_items, flag_items;
    for (const CLI::App* s : subcommands(*app)) {
      names += (names.empty() ? "" : " ") + s->get_name();
      subs_items += fmt::format(" '{}:{}'", s->get_name(), shell_text(s->get_description(), true));
    }
    for (const Flag& f : flags_of(*app))
      for (const auto& n : f.names) {
        flag_items += fmt::format(" '{}:{}'", n, shell_text(f.description, true));
        if (!f.choices.empty()) {
          std::string choices;
          for (const auto& c : f.choices) choices += (choices.empty() ? "" : " ") + c;
          values_case += fmt::format("    '{}|{}') values=({}) ;;\n", path, n, choices);
        }
      }
    subs_case += fmt::format("      '{}') subs=({}) ;;\n", path, names);
    items_case +=
        fmt::format("    '{}') sub_items=({}); flag_items=({}) ;;\n", path, subs_items, flag_items);
  }
  return fmt::format(
      "#compdef probity\n"
      "# zsh completion for probity (generated by `probity --generate zsh`)\n"
      "_probity() {{\n"
      "  local cmd='' i w\n"
      "  local -a subs sub_items flag_items values\n"
      "  for ((i = 2; i < CURRENT; i++)); do\n"
      "    w=${{words[i]}}\n"
      "    [[ $w == -* ]] && continue\n"
      "    case $cmd in\n"
      "{}"
      "      *) subs=() ;;\n"
      "    esac\n"
      "    (( ${{subs[(Ie)$w]}} )) && cmd=${{cmd:+$cmd }}$w\n"
      "  done\n"
      "  case $cmd in\n"
      "{}"
      "    *) sub_items=(); flag_items=() ;;\n"
      "  esac\n"
      "  values=()\n"
      "  case \"$cmd|${{words[CURRENT-1]}}\" in\n"
      "{}"
      "  esac\n"
      "  if (( ${{#values}} )); then\n"
      "    compadd -a values\n"
      "  elif [[ $PREFIX == -* ]]; then\n"
      "    _describe 'flag' flag_items\n"
      "  elif (( ${{#sub_items}} )); then\n"
      "    _describe 'subcommand' sub_items\n"
      "  else\n"
      "    _files\n"
      "  fi\n"
      "}}\n"
      "_probity \"$@\"\n",
      subs_case, items_case, values_case);
}

}  // namespace probity::cli
