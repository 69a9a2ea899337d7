// The web page's bytes (design in server/webui.h).
#include "server/webui.h"

extern "C" const char gpt2_webui_start[];
extern "C" const char gpt2_webui_end[];

namespace gpt2::server {

std::string_view webui_page() {
  return std::string_view(gpt2_webui_start, static_cast<size_t>(gpt2_webui_end - gpt2_webui_start));
}

}  // namespace gpt2::server
