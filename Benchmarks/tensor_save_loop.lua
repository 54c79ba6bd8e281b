-- tensor.save of a 1e7 f64 tensor over an existing .npy, 15 times (best, median, CPU per save);
-- numpy's side: Benchmarks/peers_tensor_save_loop.py. Run: moonlab run Benchmarks/tensor_save_loop.lua [DIR]
local dir = arg[1] or "/tmp"
local a = tensor.randn({1e7}, random.new(13))
local p = dir .. "/moonlab-save-loop.npy"
tensor.save(p, a)
local c0 = os.clock()
local med, best = timeit(function() tensor.save(p, a) end, {runs = 15, warmup = 1})
print(string.format("save 1e7 f64 over the file: best %.1f ms, median %.1f ms, CPU %.1f ms per save", best * 1e3, med * 1e3, (os.clock() - c0) / 16 * 1e3))
os.remove(p)
