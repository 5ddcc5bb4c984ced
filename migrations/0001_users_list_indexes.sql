DROP INDEX `users_role_active_idx`;--> statement-breakpoint
CREATE INDEX `users_role_created_at_id_idx` ON `users` (`role`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `users_active_created_at_id_idx` ON `users` (`is_active`,`created_at`,`id`);