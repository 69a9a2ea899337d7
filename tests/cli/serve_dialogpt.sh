# gpt2 serve: DialoGPT's chat template (docs/serve.md "Chat templates"). A checkpoint whose
# config.json has `_name_or_path` "microsoft/DialoGPT-small" gets it without a flag: every
# turn's text followed by <|endoftext|>, system messages dropped; the prompt's ids must be
# exactly `gpt2 tokenize --special allow` of that text. --chat-template plain overrides the
# detection, and a plain-named checkpoint gets the plain template.
set -euo pipefail
BIN=$1 REPO=$2
source "$REPO/tests/cli/serve_lib.bash"

make_checkpoint "$T/chatmodel" --name-or-path microsoft/DialoGPT-small
grep -q '"_name_or_path": "microsoft/DialoGPT-small"' "$T/chatmodel/config.json" || fail "fixture config"
MSGS='[{"role":"system","content":"ignored"},{"role":"user","content":"Does money buy happiness?"},{"role":"assistant","content":"Depends how much money you spend on it."},{"role":"user","content":"What is the best way to buy happiness ?"}]'
want_text='Does money buy happiness?<|endoftext|>Depends how much money you spend on it.<|endoftext|>What is the best way to buy happiness ?<|endoftext|>'
want_ids=$("$BIN" tokenize --special allow --format json "$want_text" | jq -c .ids)
case $want_ids in *50256*) ;; *) fail "tokenize did not map <|endoftext|> to 50256: $want_ids" ;; esac

start_server dialo -m "$T/chatmodel" --threads 1
post /apply-template "{\"messages\":$MSGS}" > "$T/tpl.json"
[ "$(jraw "$T/tpl.json" '.tokens')" = "$want_ids" ] || fail "DialoGPT prompt ids $(jraw "$T/tpl.json" '.tokens') != $want_ids"
[ "$(jget "$T/tpl.json" '.prompt')" = "$want_text" ] || fail "DialoGPT prompt text"
# The chat request is conditioned on exactly those ids: its usage counts them and its text is
# the completion of the same ids through /v1/completions.
post /v1/chat/completions "{\"messages\":$MSGS,\"max_tokens\":8,\"seed\":4}" > "$T/chat.json"
[ "$(jget "$T/chat.json" '.usage.prompt_tokens')" = "$(jget "$T/tpl.json" '.tokens | length')" ] || fail "prompt_tokens"
post /v1/completions "{\"prompt\":$want_ids,\"max_tokens\":8,\"seed\":4}" > "$T/comp.json"
[ "$(jraw "$T/chat.json" '.choices[0].message.content')" = "$(jraw "$T/comp.json" '.choices[0].text')" ] ||
  fail "chat text differs from the completion of the template's ids"
stop_server

start_server forced -m "$T/chatmodel" --threads 1 --chat-template plain
post /apply-template '{"messages":[{"role":"user","content":"Hi"}]}' > "$T/tpl2.json"
[ "$(jraw "$T/tpl2.json" '.prompt')" = '"User: Hi\nAssistant:"' ] || fail "--chat-template plain: $(cat "$T/tpl2.json")"
stop_server

# Detection by path (any case) too.
cp -r "$T/chatmodel" "$T/my-dialogpt-copy"
sed -i 's|"_name_or_path": "microsoft/DialoGPT-small"|"_name_or_path": "gpt2"|' "$T/my-dialogpt-copy/config.json"
start_server bypath -m "$T/my-dialogpt-copy" --threads 1
post /apply-template '{"messages":[{"role":"user","content":"Hi"}]}' > "$T/tpl3.json"
[ "$(jget "$T/tpl3.json" '.prompt')" = 'Hi<|endoftext|>' ] || fail "detection by path: $(cat "$T/tpl3.json")"
stop_server
start_server plainmodel -m "$MODEL" --threads 1
post /apply-template '{"messages":[{"role":"user","content":"Hi"}]}' > "$T/tpl4.json"
[ "$(jraw "$T/tpl4.json" '.prompt')" = '"User: Hi\nAssistant:"' ] || fail "plain model: $(cat "$T/tpl4.json")"
stop_server
echo "PASS"
