package tensor

import "time"

var epoch = time.Now()

// nanotime is a monotonic clock for spin limits.
func nanotime() int64 { return int64(time.Since(epoch)) }
