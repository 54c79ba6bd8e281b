import LuaKit

extension Workbench {
    /// `data.write_chat`: records as chat-messages JSON Lines for trainers.
    static func installWriteChat(_ L: LuaState) throws {
        try L.load(writeChatSource, name: "=data.write_chat")
        L.push(function: "data.write_chat") { args in  // the refusal, raised by the Lua caller at its caller
            if FileAccess.isSandboxed(args.state) { args.state.push(FileAccess.refusal("data.write_chat").message); return 1 }
            return 0
        }  // the sandbox's file gate
        guard L.getGlobal("data") == .table else { L.pop(2); return }
        L.getField("write_jsonl")
        L.remove(at: -2)
        try L.pcall(nargs: 2, nresults: 1)
        Help.register(L, value: -1, name: "data.write_chat", doc: """
            data.write_chat(path, records, {format = "messages", system = nil}) -> count
            Writes records as chat-messages JSON Lines. Each record's `messages` list is used as it
            is; without one, {question, answer} (or {prompt, completion}) become a user and an
            assistant message. format "messages": {"messages": [...]} per line, the conversational
            format TRL's SFTTrainer reads; "ilab": {"messages": [...], "metadata": "<JSON text>",
            "id": "..."}, as `ilab train` reads its messages files (system message first; metadata
            holds the record's leaf); "ilab_legacy": {"system", "user", "assistant"}. system: a
            system message put first (default none; "ilab" uses InstructLab's default).
            Example: data.write_chat("train.jsonl", records, {format = "ilab"})
            """, isModule: false)
        guard L.getGlobal("data") == .table else { L.pop(2); return }
        L.insert(at: -2)
        L.setField("write_chat", of: -2)
        L.pop()
    }

    static let writeChatSource = #"""
    local ILAB_SYSTEM = "I am a Red Hat® Instruct Model, an AI language model developed by Red Hat and IBM Research based on the granite-3.0-8b-base model. My primary role is to serve as a chat assistant."
    local may_open_files, write_jsonl = ...
    return function(path, records, opts)
      if type(path) ~= "string" then error("data.write_chat: path must be a string", 2) end
      local refused = may_open_files()
      if refused then error(refused, 2) end
      if type(records) ~= "table" then error("data.write_chat: records must be a list of records", 2) end
      opts = opts or {}
      for k in pairs(opts) do
        if k ~= "format" and k ~= "system" then
          error("data.write_chat: unknown option '" .. tostring(k) .. "'; valid options: format, system", 2)
        end
      end
      local format = opts.format or "messages"
      if format ~= "messages" and format ~= "ilab" and format ~= "ilab_legacy" then
        error("data.write_chat: format must be \"messages\", \"ilab\" or \"ilab_legacy\", got " .. tostring(format), 2)
      end
      local system = opts.system
      if system == nil and format ~= "messages" then system = ILAB_SYSTEM end
      local out = {}
      for i, r in ipairs(records) do
        if type(r) ~= "table" then error("data.write_chat: records[" .. i .. "] is a " .. type(r) .. ", not a table", 2) end
        local msgs = {}
        if system then msgs[1] = {role = "system", content = system} end
        if type(r.messages) == "table" then
          for _, m in ipairs(r.messages) do
            if m.role ~= "system" or not system then msgs[#msgs + 1] = {role = m.role, content = m.content} end
          end
        else
          local user = r.question or r.prompt
          local assistant = r.answer or r.completion
          if type(user) ~= "string" or type(assistant) ~= "string" then
            error("data.write_chat: records[" .. i .. "] has no messages and no question/answer (or prompt/completion) strings", 2)
          end
          if r.context then user = r.context .. "\n\n" .. user end
          msgs[#msgs + 1] = {role = "user", content = user}
          msgs[#msgs + 1] = {role = "assistant", content = assistant}
        end
        if format == "messages" then
          out[i] = {messages = msgs}
        elseif format == "ilab" then
          out[i] = {messages = msgs, metadata = data.encode({leaf = r.leaf, source = "moonlab"}), id = tostring(i)}
        else
          local sys, user, assistant = system or "", nil, nil
          for _, m in ipairs(msgs) do
            if m.role == "user" and not user then user = m.content end
            if m.role == "assistant" and not assistant then assistant = m.content end
          end
          out[i] = {system = sys, user = user or "", assistant = assistant or ""}
        end
      end
      write_jsonl(path, out)
      return #out
    end
    """#
}
