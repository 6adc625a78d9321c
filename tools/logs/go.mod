module github.com/govern/tools/logs

go 1.26.0
