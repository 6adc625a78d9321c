module github.com/govern/tools/sim

go 1.26.0

require (
	github.com/govern/report v0.0.0
	github.com/govern/reviewer v0.0.0
)

require pgregory.net/rapid v1.3.0

replace (
	github.com/govern/kit => ../../apps/kit
	github.com/govern/report => ../../apps/report
	github.com/govern/reviewer => ../../apps/reviewer
)
