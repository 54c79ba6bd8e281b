import LuaKit

extension Workbench {
    /// `data.logprobs`, written in Lua: it only walks tables.
    static func installLogprobs(_ m: ModuleBuilder) throws {
        let s = m.state
        try s.load(logprobsSource, name: "=data.logprobs")
        s.push(ref: DataSentinels.of(s).null)
        s.getGlobal("tensor")
        try s.pcall(nargs: 2, nresults: 1)
        Help.register(s, value: -1, name: "data.logprobs", doc: """
            data.logprobs(x) -> {tokens = list, logprobs = tensor, top_logprobs = list}
            Normalises per-token log-probabilities from any common layout. x is a whole response
            (its first choice is taken), a choice, or its logprobs object, in one of:
            - OpenAI chat (and vLLM's OpenAI server): logprobs.content[i] = {token, logprob,
              top_logprobs = {{token, logprob}, ...}};
            - OpenAI completions (and vLLM's server): logprobs = {tokens, token_logprobs,
              top_logprobs = {{[token] = logprob, ...}, ...}};
            - vLLM offline (SampleLogprobs): a list, per position, of tables mapping token (or
              token id) -> logprob or -> {logprob =, decoded_token =, rank =}; pass the output
              {token_ids =, logprobs =} when positions hold several entries, so the sampled
              token is known (a single entry per position needs no ids). Token ids are found
              as integer keys or as their decimal text, as Python's json.dump writes them.
              A whole RequestOutput ({outputs = {...}}, what LLM.generate returns per prompt)
              gives its first output's, as a response gives its first choice's.
              prompt_logprobs with prompt_token_ids as token_ids: the first position's null
              gives the id as the token and NaN.
            Result: tokens (strings), logprobs (f64 tensor; NaN where the layout has null, e.g.
            the first prompt token with echo), top_logprobs: per position a list of
            {token =, logprob =} sorted by logprob, highest first (empty lists when none).
            Example: local lp = data.logprobs(data.json("response.json")[1]); print(lp.tokens[1], lp.logprobs[1])
            """, isModule: false)
        m.field("logprobs")
    }

    static let logprobsSource = #"""
    local null, tensor = ...
    local NAN = 0 / 0

    local function present(v) return v ~= nil and v ~= null end

    local function number_or_nan(v, what)
      if not present(v) then return NAN end
      if type(v) ~= "number" then error(what .. " is a " .. type(v) .. ", not a number", 0) end
      return v
    end

    local function by_logprob(a, b)
      if a.logprob ~= b.logprob then return a.logprob > b.logprob end
      return tostring(a.token) < tostring(b.token)
    end

    -- A top-logprobs entry: a list of {token, logprob} (chat) or a map token -> logprob
    -- or token -> {logprob, decoded_token} (completions, vLLM). Returns a sorted list.
    local function top_list(t, where)
      local out = {}
      if not present(t) then return out end
      if type(t) ~= "table" then error(where .. " is a " .. type(t) .. ", not a table", 0) end
      -- a chat list holds {token =, logprob =} tables; a vLLM position keyed by integer token
      -- ids 1..n also has a length, and is a map
      if #t > 0 and type(t[1]) == "table" and t[1].token ~= nil then
        for j, e in ipairs(t) do
          out[j] = {token = e.token, logprob = number_or_nan(e.logprob, where .. "[" .. j .. "].logprob")}
        end
      else
        for k, v in pairs(t) do
          if type(v) == "table" then
            local tok = present(v.decoded_token) and v.decoded_token or tostring(k)
            out[#out + 1] = {token = tok, logprob = number_or_nan(v.logprob, where .. "." .. tostring(k))}
          else
            out[#out + 1] = {token = tostring(k), logprob = number_or_nan(v, where .. "." .. tostring(k))}
          end
        end
      end
      table.sort(out, by_logprob)
      return out
    end

    local function chat(content)
      local tokens, lps, tops = {}, {}, {}
      for i, c in ipairs(content) do
        if type(c) ~= "table" then error("content[" .. i .. "] is a " .. type(c) .. ", not a table", 0) end
        if type(c.token) ~= "string" then error("content[" .. i .. "].token is missing", 0) end
        tokens[i] = c.token
        lps[i] = number_or_nan(c.logprob, "content[" .. i .. "].logprob")
        tops[i] = top_list(c.top_logprobs, "content[" .. i .. "].top_logprobs")
      end
      return tokens, lps, tops
    end

    local function completions(lp)
      local tokens, lps, tops = {}, {}, {}
      local top = present(lp.top_logprobs) and lp.top_logprobs or {}
      for i, tok in ipairs(lp.tokens) do
        tokens[i] = tostring(tok)
        lps[i] = number_or_nan(lp.token_logprobs[i], "token_logprobs[" .. i .. "]")
        tops[i] = top_list(top[i], "top_logprobs[" .. i .. "]")
      end
      if #lp.token_logprobs ~= #tokens then
        error("tokens and token_logprobs differ in length (" .. #tokens .. " vs " .. #lp.token_logprobs .. ")", 0)
      end
      return tokens, lps, tops
    end

    -- The entry of token id `id` in a position: keyed by the integer (vLLM's own dicts) or by
    -- its decimal text (the same dict after Python's json.dump, which writes keys as strings).
    local function entry_key(pos, id)
      if pos[id] ~= nil then return id end
      local n = math.tointeger(id)
      if n == nil and type(id) == "string" then n = math.tointeger(tonumber(id)) end
      if n ~= nil then
        if pos[n] ~= nil then return n end
        local text = string.format("%d", n)
        if pos[text] ~= nil then return text end
      end
      return nil
    end

    local function vllm(list, ids)
      local tokens, lps, tops = {}, {}, {}
      for i, pos in ipairs(list) do
        if pos == null and ids then
          -- vLLM's prompt_logprobs (list[Optional[dict]]): the first prompt token has None
          if ids[i] == nil or ids[i] == null then error("token_ids has no id for position " .. i, 0) end
          tokens[i] = tostring(math.tointeger(ids[i]) or ids[i])
          lps[i] = NAN
          tops[i] = {}
          goto continue
        end
        if type(pos) ~= "table" then error("position " .. i .. " is a " .. (pos == null and "data.null" or type(pos)) .. ", not a table", 0) end
        local key
        if ids then
          if ids[i] == nil or ids[i] == null then error("token_ids has no id for position " .. i, 0) end
          key = entry_key(pos, ids[i])
          if key == nil then error("position " .. i .. " has no entry for token id " .. tostring(ids[i]), 0) end
        else
          local n = 0
          for k in pairs(pos) do n = n + 1; key = k end
          if n ~= 1 then
            error("position " .. i .. " has " .. n .. " entries: pass {token_ids =, logprobs =} so the sampled token is known", 0)
          end
        end
        local v = pos[key]
        if type(v) == "table" then
          tokens[i] = present(v.decoded_token) and v.decoded_token or tostring(key)
          lps[i] = number_or_nan(v.logprob, "position " .. i .. " logprob")
        else
          tokens[i] = tostring(key)
          lps[i] = number_or_nan(v, "position " .. i .. " logprob")
        end
        tops[i] = top_list(pos, "position " .. i)
        ::continue::
      end
      return tokens, lps, tops
    end

    local function normalise(x)
      if type(x) ~= "table" then error("table expected, got " .. (x == null and "data.null" or type(x)), 0) end
      if present(x.choices) then
        if type(x.choices) ~= "table" or x.choices[1] == nil then error("the response has no choices", 0) end
        x = x.choices[1]
      elseif present(x.outputs) and x.logprobs == nil and x.content == nil then
        -- vLLM offline's RequestOutput: its first CompletionOutput
        if type(x.outputs) ~= "table" or x.outputs[1] == nil then error("the vLLM output has no outputs", 0) end
        x = x.outputs[1]
      end
      -- vLLM offline ({token_ids, logprobs = positions}); vLLM's OpenAI server with
      -- return_token_ids puts token_ids beside a chat or completions logprobs object
      if present(x.token_ids) and type(x.logprobs) == "table" and x.logprobs.content == nil
          and x.logprobs.tokens == nil then
        return vllm(x.logprobs, x.token_ids)
      end
      if x.logprobs ~= nil then
        if x.logprobs == null then error("the choice has logprobs = null (request them with logprobs = true)", 0) end
        x = x.logprobs
      end
      if x.content ~= nil then
        if not present(x.content) then error("logprobs.content is null (no logprobs were returned)", 0) end
        return chat(x.content)
      end
      if present(x.tokens) and present(x.token_logprobs) then return completions(x) end
      if type(x[1]) == "table" then
        if type(x[1].token) == "string" and x[1].logprob ~= nil then return chat(x) end
        return vllm(x)
      end
      if next(x) == nil then return {}, {}, {} end
      error("unrecognised layout: expected a response (choices or vLLM's outputs), a choice (logprobs), a chat logprobs "
        .. "object (content), a completions one (tokens, token_logprobs) or a vLLM list", 0)
    end

    return function(x, extra)
      if type(extra) == "table" and next(extra) ~= nil then
        error("bad argument #2 to 'data.logprobs' (unknown option '" .. tostring(next(extra)) .. "': this function takes no options)", 2)
      end
      local ok, tokens, lps, tops = pcall(normalise, x)
      if not ok then error("data.logprobs: " .. tostring(tokens), 2) end
      return {tokens = tokens, logprobs = tensor(lps), top_logprobs = tops}
    end
    """#
}
