-- The prompt templates of synth.generate (moonlab's LAB pipeline), one per step.
-- Copy this file, change what you like, and pass it: synth.generate{..., templates = "my_templates.lua"}.
-- {name} is replaced by the field of that name: task_description, domain, document_outline,
-- context, examples, n, question, answer. parse_questions and verdict turn the teacher's
-- text into questions and a yes/no; replace them too if your teacher writes differently.
local T = {}

T.system = "You are a careful teacher who writes training data for a smaller model."

-- Step 1 (skills): new questions from seed examples of the task.
T.questions_skill = [[
You are asked to come up with a set of {n} diverse questions for this task:
{task_description}

Here are some examples of questions for the task:
{examples}

Write {n} new questions for the task. They must differ from the examples and from each other.
Write one question per line, numbered 1., 2., ...]]

-- Step 1 (grounded skills and knowledge): new questions answerable from a context.
T.questions_grounded = [[
Here is a passage about {domain}:
{context}

Here are some examples of questions about such a passage:
{examples}

Write {n} new questions that the passage answers. Write one question per line, numbered 1., 2., ...]]

-- Step 2: the teacher judges each question.
T.judge_question = [[
Task: {task_description}
Question: {question}

Is this a clear, self-contained question that fits the task? Answer with yes or no.]]

-- Step 3: answers, with the context when the leaf has one.
T.answer = [[
{task_description}

{question}]]

T.answer_grounded = [[
Answer the question using only the passage.

Passage:
{context}

Question: {question}]]

-- Step 4: faithfulness of the pair to the context (grounded leaves), or correctness.
T.judge_faithfulness = [[
Passage:
{context}

Question: {question}
Answer: {answer}

Is every claim in the answer supported by the passage? Answer with yes or no.]]

T.judge_answer = [[
Question: {question}
Answer: {answer}

Is this answer correct, relevant and helpful? Answer with yes or no.]]

-- How the teacher's list of questions is read: numbered or bulleted lines, one question each.
function T.parse_questions(text)
  local out = {}
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    local q = line:gsub("^%s*%d+[%.%):]%s*", ""):gsub("^%s*[-*]%s+", ""):gsub("^%s+", ""):gsub("%s+$", "")
    q = q:gsub("^[Qq]uestion%s*%d*%s*:%s*", ""):gsub("^%u[%.%):]%s+", "")
    if #q >= 8 then out[#out + 1] = q end
  end
  return out
end

-- How a judge's answer is read: true for yes, false for no, nil when it says neither.
function T.verdict(text)
  local t = text:lower()
  local yes, no = t:find("%f[%a]yes%f[%A]"), t:find("%f[%a]no%f[%A]")
  if yes and (not no or yes < no) then return true end
  if no then return false end
  return nil
end

return T
