package cifar

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// MaxImages bounds the number of images of an image-folder dataset
// (1,048,576 images make 3 GiB of records).
const MaxImages = 1 << 20

// splitNames are the folders of an image dataset, indexed by imageFile.split.
var splitNames = [2]string{"train", "test"}

// imageFile is one image of an image-folder dataset.
type imageFile struct {
	split int    // index into splitNames
	class string // class folder name
	name  string // path below the class folder, slash-separated (sort key)
}

// decoded is an image file and its pixels.
type decoded struct {
	file imageFile
	pix  []byte
}

// imageJob is an image to decode: where names it in messages and load
// returns its bytes.
type imageJob struct {
	file  imageFile
	where string
	load  func() ([]byte, error)
}

// imageSet gathers the class folders and images of an image dataset and
// decodes the images on every core while the caller goes on listing them.
type imageSet struct {
	source  string            // folder or archive, for messages
	splits  [2]string         // where each split folder is, "" if absent
	classes [2]map[string]int // images seen in each class folder
	count   int

	jobs   chan imageJob
	wg     sync.WaitGroup
	mu     sync.Mutex
	done   []decoded
	err    error // first decoding error
	closed bool
}

func newImageSet(source string) *imageSet {
	return &imageSet{source: source, classes: [2]map[string]int{{}, {}}}
}

// addSplit records that split folder s exists at where.
func (set *imageSet) addSplit(s int, where string) {
	if set.splits[s] == "" {
		set.splits[s] = where
	}
}

// addClass records class folder class of split s.
func (set *imageSet) addClass(s int, class string) {
	if _, ok := set.classes[s][class]; !ok {
		set.classes[s][class] = 0
	}
}

// addImage queues an image for decoding. It fails once a previous image
// failed to decode, so that the caller stops listing.
func (set *imageSet) addImage(job imageJob) error {
	if err := set.firstErr(); err != nil {
		return err
	}
	set.count++
	if set.count > MaxImages {
		return fmt.Errorf("cifar: %s: more than %d images", set.source, MaxImages)
	}
	set.addClass(job.file.split, job.file.class)
	set.classes[job.file.split][job.file.class]++
	if set.jobs == nil {
		set.start()
	}
	set.jobs <- job
	return nil
}

// start launches one decoder a core.
func (set *imageSet) start() {
	n := runtime.GOMAXPROCS(0)
	set.jobs = make(chan imageJob, 4*n)
	for range n {
		set.wg.Add(1)
		go set.work()
	}
}

// work decodes queued images until the queue closes, skipping them after a
// failure.
func (set *imageSet) work() {
	defer set.wg.Done()
	for job := range set.jobs {
		if set.firstErr() != nil {
			continue
		}
		pix, err := decodeJob(job)
		set.mu.Lock()
		if err != nil && set.err == nil {
			set.err = err
		}
		if err == nil {
			set.done = append(set.done, decoded{file: job.file, pix: pix})
		}
		set.mu.Unlock()
	}
}

func decodeJob(job imageJob) ([]byte, error) {
	data, err := job.load()
	if err != nil {
		return nil, err
	}
	pix, err := DecodeImage(data)
	if err != nil {
		return nil, fmt.Errorf("cifar: %s: %w", job.where, err)
	}
	return pix, nil
}

func (set *imageSet) firstErr() error {
	set.mu.Lock()
	defer set.mu.Unlock()
	return set.err
}

// wait stops the decoders once the queue is empty; it may be called twice.
func (set *imageSet) wait() {
	if set.jobs != nil && !set.closed {
		close(set.jobs)
		set.closed = true
	}
	set.wg.Wait()
}

// empty reports whether no split folder was seen.
func (set *imageSet) empty() bool { return set.splits[0] == "" && set.splits[1] == "" }

// finish waits for the decoders, checks the folder structure and builds the
// dataset: classes in sorted order, images sorted by class then name.
func (set *imageSet) finish() (*Dataset, error) {
	set.wait()
	classes, err := set.checkClasses()
	if err != nil {
		return nil, err
	}
	if set.err != nil {
		return nil, set.err
	}
	ds := &Dataset{Classes: classes, Source: set.source}
	index := make(map[string]int, len(classes))
	for i, c := range classes {
		index[c] = i
	}
	slices.SortFunc(set.done, func(a, b decoded) int {
		return cmp.Or(cmp.Compare(a.file.split, b.file.split),
			cmp.Compare(a.file.class, b.file.class), cmp.Compare(a.file.name, b.file.name))
	})
	for s := range splitNames {
		if set.splits[s] != "" {
			split := set.buildSplit(s, index)
			if s == 0 {
				ds.Train = split
			} else {
				ds.Test = split
			}
		}
	}
	return ds, nil
}

// buildSplit packs the sorted decoded images of split s into records,
// dropping each image's own pixels once copied so that the collector can
// take them while the rest is packed.
func (set *imageSet) buildSplit(s int, index map[string]int) *Split {
	n := 0
	for _, d := range set.done {
		if d.file.split == s {
			n++
		}
	}
	records := make([]byte, 0, n*RecordSize)
	for i := range set.done {
		if d := &set.done[i]; d.file.split == s {
			records = append(records, byte(index[d.file.class]))
			records = append(records, d.pix...)
			d.pix = nil
		}
	}
	return &Split{Name: splitNames[s], Source: set.splits[s], Records: records}
}

// checkClasses checks that every split folder has class folders, none of
// them empty, that train and test have the same ones and that there are at
// most MaxClasses; it returns them sorted.
func (set *imageSet) checkClasses() ([]string, error) {
	var classes []string
	for s, where := range set.splits {
		if where == "" {
			continue
		}
		if len(set.classes[s]) == 0 {
			return nil, fmt.Errorf("cifar: %s: no class folders (expected %s/<class>/ images)", where, splitNames[s])
		}
		names := sortedKeys(set.classes[s])
		for _, c := range names {
			if set.classes[s][c] == 0 {
				return nil, fmt.Errorf("cifar: %s/%s: empty class folder: no images", where, c)
			}
		}
		if classes != nil && !slices.Equal(classes, names) {
			return nil, fmt.Errorf("cifar: %s: class folders differ between train and test: %s", set.source, classDiff(classes, names))
		}
		classes = names
	}
	if classes == nil {
		return nil, errors.New("cifar: " + set.source + ": no train or test folder")
	}
	if len(classes) > MaxClasses {
		return nil, fmt.Errorf("cifar: %s: %d classes, at most %d are supported", set.source, len(classes), MaxClasses)
	}
	return classes, nil
}

// classDiff names the classes only in train and only in test.
func classDiff(train, test []string) string {
	var onlyTrain, onlyTest []string
	for _, c := range train {
		if !slices.Contains(test, c) {
			onlyTrain = append(onlyTrain, c)
		}
	}
	for _, c := range test {
		if !slices.Contains(train, c) {
			onlyTest = append(onlyTest, c)
		}
	}
	return fmt.Sprintf("only in train: [%s]; only in test: [%s]", strings.Join(onlyTrain, " "), strings.Join(onlyTest, " "))
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
