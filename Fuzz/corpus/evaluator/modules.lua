local t = tensor{{1, 2}, {3, 4}}
x = dist.softmax(t)
print(rl.gae({1, 0, 1}, {0.5, 0.4, 0.3}, {gamma = 0.99}))
sample.chain{sample.top_k(2), sample.top_p(0.9)}:sample({1, 2, 3}, random.new(1))
metrics.ece({0.2, 0.9}, {0, 1}, {bins = 5})
plot.hist({1, 2, 3}, {bins = 2, print = false})
return data.encode({a = {1, 2, {b = "c"}}})
