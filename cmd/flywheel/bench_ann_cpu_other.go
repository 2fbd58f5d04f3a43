//go:build !unix

package main

import "time"

// cpuTime is unknown on this platform; CPU figures print as zero.
func cpuTime() time.Duration { return 0 }
