package app

import "time"

// InspectTime is the time spent so far inside training runs on inspecting
// the selected image and publishing snapshots.
func (s *Session) InspectTime() time.Duration { return time.Duration(s.inspectNanos.Load()) }
