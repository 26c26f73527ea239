package gpu

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/gogpu/naga"
	"github.com/gogpu/naga/ir"
)

// TestKernels checks every registered kernel against its WGSL, parsed by
// naga: the Go Params struct has the fields, types, offsets and size of the
// file's Params struct (a multiple of 16 bytes), binding 0 is that uniform,
// the kernel's storage slots exist with the access the Go side declares,
// the entry point uses no other binding, and its workgroup size is the one
// dispatch assumes. A change on either side without the other fails here.
func TestKernels(t *testing.T) {
	if len(kernels) == 0 {
		t.Fatal("no kernels registered")
	}
	modules := map[string]*ir.Module{}
	for _, k := range kernels {
		t.Run(k.name(), func(t *testing.T) {
			m := modules[k.file]
			if m == nil {
				ast, err := naga.Parse(k.source)
				if err != nil {
					t.Fatalf("parse %s: %v", k.file, err)
				}
				if m, err = naga.LowerWithSource(ast, k.source); err != nil {
					t.Fatalf("lower %s: %v", k.file, err)
				}
				modules[k.file] = m
			}
			checkParams(t, m, k)
			checkBindings(t, m, k)
			checkEntry(t, m, k)
		})
	}
}

// globalAt returns the global variable at @group(0) @binding(n).
func globalAt(m *ir.Module, n uint32) (ir.GlobalVariableHandle, *ir.GlobalVariable) {
	for i := range m.GlobalVariables {
		g := &m.GlobalVariables[i]
		if g.Binding != nil && g.Binding.Group == 0 && g.Binding.Binding == n {
			return ir.GlobalVariableHandle(i), g
		}
	}
	return 0, nil
}

func checkParams(t *testing.T, m *ir.Module, k *kernel) {
	t.Helper()
	_, g := globalAt(m, 0)
	if g == nil || g.Space != ir.SpaceUniform {
		t.Fatalf("%s: binding 0 is not a uniform", k.file)
	}
	st, ok := m.Types[g.Type].Inner.(ir.StructType)
	if !ok || m.Types[g.Type].Name != "Params" {
		t.Fatalf("%s: binding 0 is %q, not struct Params", k.file, m.Types[g.Type].Name)
	}
	gt := k.params
	if gt.Kind() != reflect.Struct {
		t.Fatalf("Go params %v is not a struct", gt)
	}
	if int(gt.Size()) != int(st.Span) || gt.Size()%16 != 0 {
		t.Errorf("Params: Go %v is %d bytes, WGSL %d (both must match and be a multiple of 16)", gt, gt.Size(), st.Span)
	}
	if gt.NumField() != len(st.Members) {
		t.Errorf("Params: Go %v has %d fields, WGSL %d", gt, gt.NumField(), len(st.Members))
	}
	for i := 0; i < min(gt.NumField(), len(st.Members)); i++ {
		f, w := gt.Field(i), st.Members[i]
		if tag := f.Tag.Get("wgsl"); tag != w.Name {
			t.Errorf("Params field %d: Go %s (wgsl:%q), WGSL %s", i, f.Name, tag, w.Name)
		}
		if uint32(f.Offset) != w.Offset {
			t.Errorf("Params.%s: Go offset %d, WGSL %d", w.Name, f.Offset, w.Offset)
		}
		if want, got := goScalar(f.Type), wgslScalar(m, w.Type); want != got {
			t.Errorf("Params.%s: Go %v is %s, WGSL %s", w.Name, f.Type, want, got)
		}
	}
}

func goScalar(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Uint32:
		return "u32"
	case reflect.Int32:
		return "i32"
	case reflect.Float32:
		return "f32"
	}
	return t.String() + " (only uint32, int32 and float32 are allowed)"
}

func wgslScalar(m *ir.Module, h ir.TypeHandle) string {
	s, ok := m.Types[h].Inner.(ir.ScalarType)
	if !ok || s.Width != 4 {
		return fmt.Sprintf("%T (only u32, i32 and f32 are allowed)", m.Types[h].Inner)
	}
	switch s.Kind {
	case ir.ScalarUint:
		return "u32"
	case ir.ScalarSint:
		return "i32"
	case ir.ScalarFloat:
		return "f32"
	}
	return fmt.Sprintf("scalar kind %d", s.Kind)
}

func checkBindings(t *testing.T, m *ir.Module, k *kernel) {
	t.Helper()
	seen := map[uint32]bool{}
	for _, g := range m.GlobalVariables {
		if g.Binding == nil {
			continue
		}
		if g.Binding.Group != 0 || seen[g.Binding.Binding] {
			t.Errorf("%s: %s at @group(%d) @binding(%d): every variable needs its own binding of group 0",
				k.file, g.Name, g.Binding.Group, g.Binding.Binding)
		}
		seen[g.Binding.Binding] = true
	}
	if len(k.slots) > maxSlots {
		t.Errorf("%d storage slots, at most %d", len(k.slots), maxSlots)
	}
	for _, s := range k.slots {
		_, g := globalAt(m, s.binding)
		switch {
		case s.binding == 0:
			t.Errorf("slot at binding 0, which is Params")
		case g == nil:
			t.Errorf("slot at binding %d: no such variable in %s", s.binding, k.file)
		case g.Space != ir.SpaceStorage:
			t.Errorf("slot at binding %d: %s is not a storage buffer", s.binding, g.Name)
		case (g.Access == ir.StorageRead) != (s.access == read):
			t.Errorf("slot at binding %d: %s's access in WGSL differs from the kernel's", s.binding, g.Name)
		}
	}
}

func checkEntry(t *testing.T, m *ir.Module, k *kernel) {
	t.Helper()
	var ep *ir.EntryPoint
	for i := range m.EntryPoints {
		if m.EntryPoints[i].Name == k.entry {
			ep = &m.EntryPoints[i]
		}
	}
	if ep == nil {
		t.Fatalf("%s has no entry point %s", k.file, k.entry)
	}
	if ep.Stage != ir.StageCompute {
		t.Errorf("%s is not a compute entry point", k.entry)
	}
	if k.workgroup > 0 && ep.Workgroup != [3]uint32{k.workgroup, 1, 1} {
		t.Errorf("%s: @workgroup_size%v, the kernel dispatches %d", k.entry, ep.Workgroup, k.workgroup)
	}
	if ep.Workgroup[0]*ep.Workgroup[1]*ep.Workgroup[2] > 256 {
		t.Errorf("%s: %v invocations per workgroup, WebGPU allows 256", k.entry, ep.Workgroup)
	}
	// Bindings the entry point uses, itself or through the functions it
	// calls (followed to any depth), must be among its slots.
	slots := map[uint32]bool{0: true}
	for _, s := range k.slots {
		slots[s.binding] = true
	}
	for _, g := range usedBindings(m, &ep.Function) {
		if !slots[g.Binding.Binding] {
			t.Errorf("%s uses %s at binding %d, which the kernel does not bind", k.entry, g.Name, g.Binding.Binding)
		}
	}
}

// usedBindings are the bound global variables f refers to, directly or in
// the functions it calls.
func usedBindings(m *ir.Module, f *ir.Function) []ir.GlobalVariable {
	var out []ir.GlobalVariable
	seenGlobal := map[ir.GlobalVariableHandle]bool{}
	seenFunc := map[*ir.Function]bool{}
	var visit func(f *ir.Function)
	var calls func(b []ir.Statement)
	calls = func(b []ir.Statement) {
		for _, s := range b {
			switch s := s.Kind.(type) {
			case ir.StmtCall:
				visit(&m.Functions[s.Function])
			case ir.StmtBlock:
				calls(s.Block)
			case ir.StmtIf:
				calls(s.Accept)
				calls(s.Reject)
			case ir.StmtSwitch:
				for _, c := range s.Cases {
					calls(c.Body)
				}
			case ir.StmtLoop:
				calls(s.Body)
				calls(s.Continuing)
			}
		}
	}
	visit = func(f *ir.Function) {
		if seenFunc[f] {
			return
		}
		seenFunc[f] = true
		for _, e := range f.Expressions {
			if gv, ok := e.Kind.(ir.ExprGlobalVariable); ok && !seenGlobal[gv.Variable] {
				seenGlobal[gv.Variable] = true
				if g := m.GlobalVariables[gv.Variable]; g.Binding != nil {
					out = append(out, g)
				}
			}
		}
		calls(f.Body)
	}
	visit(f)
	return out
}

// TestEveryPipelineCompiles makes the pipeline of every registered kernel
// on the device: natively through naga and the driver, and in the browser
// through Chrome's own WGSL compiler (Tint), which is stricter than naga.
func TestEveryPipelineCompiles(t *testing.T) {
	b := open(t, Options{})
	for _, k := range kernels {
		if _, err := b.pipeline(k); err != nil {
			t.Errorf("%s: %v", k.name(), err)
		}
	}
	t.Logf("%d kernels compiled", len(kernels))
}

// usedBindings follows the calls: a binding read only in a helper function
// counts.
func TestUsedBindingsFollowCalls(t *testing.T) {
	const src = `@group(0) @binding(0) var<uniform> p: vec4<u32>;
@group(0) @binding(3) var<storage, read> hidden: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
fn inner(i: u32) -> f32 { return hidden[i]; }
fn helper(i: u32) -> f32 { return inner(i) * 2.0; }
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
	if id.x < p.x {
		out[id.x] = helper(id.x);
	}
}`
	ast, err := naga.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := naga.LowerWithSource(ast, src)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint32]bool{}
	for _, g := range usedBindings(m, &m.EntryPoints[0].Function) {
		got[g.Binding.Binding] = true
	}
	if !got[0] || !got[1] || !got[3] || len(got) != 3 {
		t.Errorf("bindings used: %v, want 0, 1 and 3 (3 through two calls)", got)
	}
}
