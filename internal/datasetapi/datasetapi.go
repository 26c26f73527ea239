// Package datasetapi is the wire format of cifarlab serve's dataset
// endpoint, shared by the server (serve.go) and the page (wasm/): the
// paths, relative to the page, and the JSON of the status.
package datasetapi

// The endpoint's paths, relative to the site's root.
const (
	StatusPath = "dataset/status"    // GET: Status, as JSON
	TrainPath  = "dataset/train.bin" // GET, HEAD: the training records
	TestPath   = "dataset/test.bin"  // GET, HEAD: the test records
)

// The dataset's states, as Status.State reports them.
const (
	Preparing   = "preparing"
	Downloading = "downloading"
	Ready       = "ready"
	Error       = "error"
)

// Status is the JSON of GET /dataset/status.
type Status struct {
	State    string   `json:"state"` // Preparing, Downloading, Ready or Error
	Source   string   `json:"source"`
	Classes  []string `json:"classes"`
	Train    int      `json:"train"` // training records
	Test     int      `json:"test"`  // test records
	Progress struct {
		Done  int64 `json:"done"`
		Total int64 `json:"total"`
	} `json:"progress"` // the download's bytes, while Downloading
	Error string `json:"error"`
	ETag  string `json:"etag"` // changes with the data
}
