package event

// Lab is where a guided lab stands (`hotrun lab NAME`). Package lab
// publishes one whenever something of it changes: the lab starts, a step
// opens, something the step waits for happens, a step is done. Each is
// whole, so a view shows the last one as it came and decides nothing.
type Lab struct {
	// What says what changed: LabOpened, LabStatus, LabDone (a step was
	// done, and the next one, if any, opened) or LabComplete.
	What  string `json:"what"`
	Lab   string `json:"lab"`   // its name: "type-identity"
	Limit string `json:"limit"` // the Go plugin limit it teaches, in one line
	Steps int    `json:"steps"`
	// Step is the step shown, from 1: what to do now, or, once every step
	// is done, the last one.
	Step  int    `json:"step"`
	Title string `json:"title"`
	Goal  string `json:"goal"`           // what to do, in a sentence or two
	File  string `json:"file,omitempty"` // the file to edit, as the user can open it
	Line  int    `json:"line,omitempty"` // the line in it to start at; 0 when unknown
	// Status says what the lab waits for or does now ("running the
	// experiment: …"); "" when there is nothing to say.
	Status string `json:"status,omitempty"`
	// Passed lists the steps done, from 1.
	Passed []int `json:"passed,omitempty"`
	// Then explains the step done last: what hotrun just did and the Go
	// rule behind it. It stays beside the next step's goal until another
	// step is done; a step shown again that was done holds its own.
	Then *LabExplain `json:"then,omitempty"`
	// Complete says every step is done.
	Complete bool `json:"complete,omitempty"`
}

// What a [Lab] event says changed.
const (
	LabOpened   = "opened"   // the lab started, or a step was shown (n, p)
	LabStatus   = "status"   // something the step waits for happened
	LabDone     = "done"     // the step's events came: Then explains it
	LabComplete = "complete" // every step is done
)

// LabExplain is what a done step of a lab teaches.
type LabExplain struct {
	Step  int    `json:"step"`
	Title string `json:"title"`
	// Seen is what the step's events showed ("pid 41 handed over to pid
	// 57; v2 answers visits=4"); "" when the step was done in an earlier
	// session.
	Seen string `json:"seen,omitempty"`
	Did  string `json:"did"`  // what hotrun did, and why
	Rule string `json:"rule"` // the Go rule behind it
	Link string `json:"link"` // the Go issue or document that says so
}

// Trial is what one of a lab's experiments found: the lab built the logic
// (and a small program that opens plugins) the plain way, as hotrun never
// does, and opened the plugins, to show what Go does then.
type Trial struct {
	Lab   string      `json:"lab"`
	What  string      `json:"what"`            // what was built and opened, for people
	Opens []TrialOpen `json:"opens,omitempty"` // each plugin.Open, in order
	// Error says the experiment could not be carried out (a build that
	// failed): it shows nothing about plugins.
	Error string `json:"error,omitempty"`
}

// TrialOpen is one plugin.Open of a [Trial].
type TrialOpen struct {
	File  string `json:"file"`
	Built string `json:"built"` // how the file was built: "go build -race -buildmode=plugin ./logic"
	// Version is what the plugin's Logic answered to Version(); 0 when
	// the open failed.
	Version int    `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
	// Code is the kind of the failure, as the engine library names it
	// (protocol.CodeAlreadyLoaded, CodeDifferentPackage, …); "" for none
	// or one it does not know.
	Code string `json:"code,omitempty"`
}

func (Lab) Name() string   { return "lab" }
func (Trial) Name() string { return "trial" }
