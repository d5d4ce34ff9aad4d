#include "html.hpp"

#include <gumbo.h>

#include <memory>

namespace crawl {

namespace {

struct OutputDeleter {
  void operator()(GumboOutput* output) const noexcept {
    gumbo_destroy_output(&kGumboDefaultOptions, output);
  }
};

void collect_text(const GumboNode* node, std::string& out) {
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE ||
      node->type == GUMBO_NODE_CDATA) {
    out += node->v.text.text;
  } else if (node->type == GUMBO_NODE_ELEMENT) {
    const GumboVector& children = node->v.element.children;
    for (unsigned i = 0; i < children.length; ++i) {
      collect_text(static_cast<const GumboNode*>(children.data[i]), out);
    }
  }
}

std::string collapse_spaces(const std::string& text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

// Iterative walk: deeply nested (malicious or broken) pages must not overflow the stack.
void walk(const GumboNode* root, HtmlSummary& summary) {
  std::vector<const GumboNode*> stack{root};
  bool have_title = false;
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT) continue;
    const GumboElement& element = node->v.element;
    const char* attribute_name = nullptr;
    switch (element.tag) {
      case GUMBO_TAG_A:
      case GUMBO_TAG_AREA: attribute_name = "href"; break;
      case GUMBO_TAG_FRAME:
      case GUMBO_TAG_IFRAME: attribute_name = "src"; break;
      case GUMBO_TAG_BASE:
        if (const GumboAttribute* href = gumbo_get_attribute(&element.attributes, "href");
            href != nullptr && summary.base.empty()) {
          summary.base = href->value;
        }
        break;
      case GUMBO_TAG_TITLE:
        if (!have_title) {
          std::string text;
          collect_text(node, text);
          summary.title = collapse_spaces(text);
          have_title = true;
        }
        break;
      default: break;
    }
    if (attribute_name != nullptr) {
      if (const GumboAttribute* attribute =
              gumbo_get_attribute(&element.attributes, attribute_name)) {
        summary.links.emplace_back(attribute->value);
      }
    }
    // Children in reverse, so they come off the stack in document order.
    for (unsigned i = element.children.length; i > 0; --i) {
      stack.push_back(static_cast<const GumboNode*>(element.children.data[i - 1]));
    }
  }
}

}  // namespace

HtmlSummary parse_html(std::string_view html) {
  HtmlSummary summary;
  std::unique_ptr<GumboOutput, OutputDeleter> output(
      gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size()));
  if (output) walk(output->root, summary);
  return summary;
}

}  // namespace crawl
