//go:build darwin

package gpu

import _ "github.com/gogpu/wgpu/hal/metal"
