// The web page of gpt2 serve (docs/serve.md "The web page"): server/webui/index.html, one
// self-contained file (HTML, CSS and plain JavaScript; nothing fetched from elsewhere), linked
// into the executable byte for byte by server/webui_blob.S (.incbin, as the demo model is).
// The page only calls this server's own API: /v1/completions and /v1/chat/completions
// (streamed), /tokenize, /inspect, /v1/models; it inserts model text with textContent only.
#pragma once

#include <string_view>

namespace gpt2::server {

/// The page's bytes (static storage).
std::string_view webui_page();

}  // namespace gpt2::server
