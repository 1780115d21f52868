-- print latency percentiles (microseconds) for the latency plot
done = function(summary, latency, requests)
  local ps = {50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100}
  for _, p in ipairs(ps) do
    io.write(string.format("PCT %g %d\n", p, latency:percentile(p)))
  end
end
