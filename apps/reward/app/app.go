// Package app holds the reward service's use cases. It declares the
// repositories it needs; adapters implement them.
package app

// Repositories are the adapters the use cases run on.
type Repositories struct {
	Rules       RulesRepository
	Accounts    AccountRepository
	Credits     CreditRepository
	Catalog     CatalogRepository
	Redemptions RedemptionRepository
}

// Application groups every use case the ports call.
type Application struct {
	Rules           *RulesCache
	GetAccount      GetAccount
	GetRules        GetRules
	ReloadRules     ReloadRules
	UpdateRules     UpdateRules
	CreditJurors    CreditJurors
	AddItem         AddItem
	ListCatalog     ListCatalog
	GetItem         GetItem
	SetStock        SetStock
	Redeem          Redeem
	ListRedemptions ListRedemptions
}

// New wires the use cases to their repositories.
func New(r Repositories) Application {
	cache := NewRulesCache()
	return Application{
		Rules:           cache,
		GetAccount:      GetAccount{accounts: r.Accounts},
		GetRules:        GetRules{cache: cache},
		ReloadRules:     ReloadRules{rules: r.Rules, cache: cache},
		UpdateRules:     UpdateRules{rules: r.Rules, cache: cache},
		CreditJurors:    CreditJurors{credits: r.Credits},
		AddItem:         AddItem{catalog: r.Catalog},
		ListCatalog:     ListCatalog{catalog: r.Catalog},
		GetItem:         GetItem{catalog: r.Catalog},
		SetStock:        SetStock{catalog: r.Catalog},
		Redeem:          Redeem{redemptions: r.Redemptions, newID: newRedemptionID, groups: newRedeemGroups()},
		ListRedemptions: ListRedemptions{redemptions: r.Redemptions},
	}
}
