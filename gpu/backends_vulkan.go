//go:build (linux && !android) || windows

package gpu

// Vulkan: GPUs of every vendor, and Mesa's lavapipe on the CPU.
import _ "github.com/gogpu/wgpu/hal/vulkan"
