// Package app holds the reward service's use cases. It declares the
// repositories it needs; adapters implement them.
package app

// Application groups every use case the ports call.
type Application struct {
	GetAccount   GetAccount
	GetRules     GetRules
	UpdateRules  UpdateRules
	CreditJurors CreditJurors
}

// New wires the use cases to their repositories.
func New(rules RulesRepository, accounts AccountRepository, credits CreditRepository) Application {
	return Application{
		GetAccount:   GetAccount{accounts: accounts},
		GetRules:     GetRules{rules: rules},
		UpdateRules:  UpdateRules{rules: rules},
		CreditJurors: CreditJurors{credits: credits},
	}
}
