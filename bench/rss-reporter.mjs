// Preloaded into a benchmarked fedctl process: reports its peak memory on exit.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.FEDCTL_BENCH_RSS_FILE) writeFileSync(process.env.FEDCTL_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024));
});
