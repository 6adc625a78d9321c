module github.com/govern/tests

go 1.26.0

require github.com/govern/kit v0.0.0

replace github.com/govern/kit => ../apps/kit
