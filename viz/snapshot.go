// Package viz draws what a network sees while it learns, for the browser
// and the desktop alike: the inspected input image with its true label and
// the model's top-3 prediction, the feature maps of every convolution (for
// ResNet18 the main path, the shortcut output and their sum in every
// block), conv1's filters, the loss curve, the accuracies and the controls.
//
// viz knows no backend and no dataset. It is fed Snapshots — plain data —
// and emits Intents, the user's requests (start, pause, step, load…); the
// program that embeds it (the wasm page, cifarlab desktop) turns intents
// into actions and actions into new snapshots.
package viz

// Map is one image or feature map: C planes of H×W values, row-major. C is
// 1 for a feature map (drawn with a colour scale of its own) and 3 for an
// RGB image (values in [0, 1]).
type Map struct {
	Title   string
	C, H, W int
	Data    []float32 // C·H·W values
}

// Panel is a labelled group of maps drawn side by side, such as the 6
// feature maps of LeNet5's conv1 or the 128 main-path maps of a ResNet18
// block (which the viewer pages through).
type Panel struct {
	Title string
	Note  string // one line under the title: what the maps are
	Maps  []Map
}

// Block is one ResNet18 residual block: its main path (bn2's output), its
// shortcut's output (the identity or the 1×1 projection) and their sum,
// channel by channel.
type Block struct {
	Title               string // e.g. "blk1 (64→128, stride 2)"
	Projection          bool   // the shortcut is a 1×1 convolution + BatchNorm
	Main, Shortcut, Sum Panel
}

// ModelChoice is one network of the model picker.
type ModelChoice struct {
	Name  string // as the SetModel intent names it, e.g. "plain56"
	Title string // as the viewer shows it, e.g. "plain-56"
	// NoBN names the same network without BatchNorm ("plain56-nobn"); ""
	// for one that has no BatchNorm to remove.
	NoBN string
	// Twin names the same network with its shortcuts removed or added
	// ("resnet56"): the shortcut experiment trains the two. "" for none.
	Twin string
}

// GradFlow is the gradient reaching each layer: the L2 norm of the
// gradient of every weight tensor on the main path (convolutions and
// linears, input to output), measured on the device during training.
type GradFlow struct {
	Layers []string  // the weight tensors' state-dict names, input to output
	Norms  []float32 // their gradient norms at step Step
	Step   int       // the last step that measured them; 0 before any
	// The norms of the first, the middle and the last layer over the
	// steps (Steps), for the chart of how they change while training.
	Steps               []int
	First, Middle, Last []float32
	// For a network of blocks, at step Step: the norm of the gradient
	// arriving at each block's sum (which a shortcut carries back to the
	// block's input unchanged) and of what the block's main path alone
	// passes back to its input.
	Blocks              []string
	BlockSum, BlockMain []float32
	Plain               bool // the blocks have no shortcut
}

// Run is an earlier training run of the session (before the model, the
// weights or the settings were reset), kept to compare with, or the other
// network of the shortcut experiment, training alongside the present one.
type Run struct {
	ID       int    // stable within the session
	Name     string // the network and its settings, e.g. "plain-20 · lr 0.001 · batch 64"
	Short    string // the network alone, e.g. "plain-20"
	Live     bool   // it trains alongside the present run (it cannot be forgotten)
	Loss     []float32
	LossStep []int
	TrainAcc []float32 // per finished epoch
	TestAcc  []float32 // likewise
	Grads    GradFlow  // the gradient reaching each layer, at its last step
}

// Experiment is the shortcut experiment in progress: a residual network
// and its plain twin (the same network with every shortcut removed),
// trained side by side from the same seed on the same batches, a few
// steps each in turn. The snapshot shows one; the other is a Live run.
type Experiment struct {
	Title string // e.g. "ResNet-20 against plain-20, no BN"
	Look  string // what to look for
	Shown string // what the run has shown so far, from its own numbers
	Twin  string // the title of the network not shown (ShowTwin shows it)
}

// Evaluation is the network's result on the test images at one step:
// after an epoch, or when asked for.
type Evaluation struct {
	Step     int // the step of the weights evaluated
	Epoch    int // epochs finished then
	Images   int // test images evaluated
	Loss     float64
	Accuracy float64
	// Confusion counts the images of each true class (row) by the class
	// predicted (column).
	Confusion [][]int
	PerClass  []float32 // each class's accuracy; NaN for a class without images
	Classes   []string
	// The images of the cell asked for (ShowCell), up to a page of them.
	Cell       [2]int // true, predicted
	CellImages []Map
	CellIndex  []int // their test records
	CellTotal  int   // images in the cell
}

// Saliency is how much each pixel of the inspected image sways the
// network's top class: |∂(top class score)/∂input|, the maximum over the
// colour channels.
type Saliency struct {
	Map   Map // C 1, the input's size
	Class int // the top class
	Step  int // the weights' step
}

// Picture is a picture of one's own that the viewer inspects: Input is
// what the network sees of it (squashed to 32×32), Original the picture.
type Picture struct {
	Name          string // the file's name, or what it is ("camera")
	Format        string // PNG, JPEG, GIF or WebP
	Width, Height int    // of the file
	Original      Map    // RGB, fit into 128×128 with its aspect kept
}

// Bars is a labelled bar chart: fully connected activations or class
// probabilities.
type Bars struct {
	Title  string
	Labels []string  // one per bar, may be empty
	Values []float32 //
}

// Snapshot is everything the viewer shows at one moment.
type Snapshot struct {
	Backend string // the backend's name, e.g. "gpu (NVIDIA …)" or "cpu (4 threads)"
	Notice  string // a visible notice, e.g. that training runs on the CPU
	Error   string // the last failure, shown until the next snapshot clears it

	Model   string        // the network, a Name or NoBN of Models
	Models  []ModelChoice // the networks the model picker offers, in order
	Classes []string      // class names in label order
	LR      float64
	Batch   int
	Running bool // training, as opposed to paused

	Step          int     // global step, from 1; 0 before the first
	Epoch         int     // the epoch in progress, from 1
	EpochProgress float64 // fraction of the epoch done, 0…1
	ImagesPerSec  float64

	Loss     []float32 // the training loss of every step so far (or a regular subsample)
	LossStep []int     // the step of each Loss value (same length)
	TrainAcc []float32 // per finished epoch, fractions in [0, 1] (percentages are read as such)
	TestAcc  []float32 // per finished epoch, likewise

	// The inspected image and the choice of others.
	Input    Map       // RGB 32×32, values in [0, 1]
	Label    int       // its true label, -1 when unknown
	Probs    []float32 // the model's softmax probabilities, in class order
	Strip    []Map     // test images to choose from, RGB
	Selected int       // index in Strip of the inspected image; -1 for a Picture
	Picture  *Picture  // a picture of one's own, inspected instead of a test image

	// What the network computes for the inspected image.
	Panels  []Panel // LeNet5: conv1, pool1, conv2, pool2; ResNet18: the stem
	Blocks  []Block // ResNet18's residual blocks, in order
	FC      []Bars  // LeNet5's fully connected activations
	Filters Panel   // conv1's filters as RGB tiles (C 3, raw weights: each tile is stretched to its own range)

	Grads GradFlow // the gradient reaching each layer

	Runs []Run // the session's earlier runs, oldest first, then a Live one

	Experiment *Experiment // the shortcut experiment in progress; nil when none
	Evaluation *Evaluation // the last evaluation on the test images; nil before one
	Saliency   *Saliency   // of the inspected image; nil until computed
}

// IntentKind is what the user asked for.
type IntentKind int

const (
	Start       IntentKind = iota + 1 // start or resume training
	Pause                             // pause training
	StepOnce                          // train one step, then stay paused
	Reset                             // new weights (from the seed), fresh optimizer
	Save                              // save the weights (browser: download; desktop: to Path)
	Load                              // load weights (browser: Data; desktop: from Path)
	SelectImage                       // inspect Strip[Image]
	SetModel                          // switch to Model (new weights)
	SetLR                             // set the learning rate to LR
	SetBatch                          // set the batch size to Batch
	ForgetRun                         // drop the earlier run Run
	// StartExperiment starts the shortcut experiment: Model (a block
	// network or its twin, "" for the default) against its twin.
	StartExperiment
	ShowTwin // show the experiment's other network
	// ExportRuns exports the runs Runs (IDs; 0 is the run shown) as
	// Format, "jsonl" or "csv" (browser: a download; desktop: a file
	// beside Path).
	ExportRuns
	// InspectPicture inspects a picture of one's own: Data, the bytes of a
	// PNG, JPEG, GIF or WebP file named Path.
	InspectPicture
	Evaluate         // evaluate the network on the test images now
	ShowCell         // show the test images of the evaluation's Cell
	InspectTestImage // inspect the test image of record index Image
)

// Intent is one request of the user, for the embedding program to carry
// out.
type Intent struct {
	Kind   IntentKind
	Model  string
	LR     float64
	Batch  int
	Image  int
	Run    int    // ForgetRun: the Run's ID
	Runs   []int  // ExportRuns: the runs' IDs, 0 for the run shown
	Cell   [2]int // ShowCell: true class, predicted class
	Format string // ExportRuns: "jsonl" or "csv"
	Path   string // desktop: file to save to or load from
	Data   []byte // browser: the bytes of a picked file
}
