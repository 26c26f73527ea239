//go:build windows

package gpu

import _ "github.com/gogpu/wgpu/hal/dx12"
